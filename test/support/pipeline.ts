import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { RDSClient } from '@aws-sdk/client-rds';
import type { LocalAws } from '../../local/aws/local-aws.js';
import { didSomething } from '../../local/aws/local-pipeline.js';
import {
  clientAs,
  seedCluster,
  seedInstance,
  seedKey,
  seedVault,
  seedVaultBucketAs,
} from '../../local/demo/seed.js';
import { rdsIn } from '../../shared/aws/clients.js';
import type { Policy } from '../../shared/policy/schema.js';
import {
  type PassResult,
  type PipelineDeps,
  runPipelinePass,
} from '../../shared/snapshots/pipeline-pass.js';
import type { Vault } from '../../shared/vault/vault.js';
import { fixturePolicy } from './policy.js';
import { ACCOUNT } from './rds-world.js';

/**
 * Sweeps of the pipeline, as its schedule runs them, at the local AWS's pace: after each sweep
 * the local clock moves on to the next thing RDS finishes, until a sweep finds nothing to do and
 * nothing is pending. The passes see `from` plus the clock's time since the call. For tests of
 * what the pipeline leaves behind, not of when (test/integration/pipeline.test.ts has those).
 */
export async function sweepUntilSettled(
  aws: LocalAws,
  deps: PipelineDeps,
  policy: Policy,
  from: Date,
): Promise<PassResult[]> {
  const started = Date.parse((await aws.clock.read()).now);
  const passes: PassResult[] = [];
  for (let i = 0; i < 100; i += 1) {
    const view = await aws.clock.read();
    const now = new Date(from.getTime() + (Date.parse(view.now) - started));
    const pass = await runPipelinePass(deps, policy, { events: [], sweep: true }, now);
    passes.push(pass);
    if (view.nextInSeconds === null && !didSomething(pass)) return passes;
    if (view.nextInSeconds !== null) await aws.clock.advanceToNext();
  }
  throw new Error('the pipeline did not settle in 100 sweeps');
}

/** A policy with a vault account, and what a pipeline test seeds for it in the local AWS. */
export interface PipelineWorld {
  readonly policy: Policy;
  readonly vault: Vault;
  /** RDS in the vault account's region, as the vault account. */
  readonly vaultRds: RDSClient;
}

/**
 * The fixture policy with a DR key and the isolated vault account `vaultAccount` (its key,
 * writer role and bucket), the stack's vault, and three databases: orders-db, reports-db (by
 * tag) and the Aurora cluster billing.
 */
export async function seedPipelineWorld(
  vaultAccount: string,
  bucket: string,
): Promise<PipelineWorld> {
  const fixture = fixturePolicy();
  const { primary, dr } = fixture.regions;
  const role = `arn:aws:iam::${vaultAccount}:role/lifeboat-vault-writer`;
  const admin = `arn:aws:iam::${vaultAccount}:role/admin`;
  const vaultKms = await clientAs(admin, KMSClient, dr);
  const vaultKey =
    (await vaultKms.send(new CreateKeyCommand({ Description: 'the vault key' }))).KeyMetadata
      ?.Arn ?? '';
  const policy: Policy = {
    ...fixture,
    snapshots: { ...fixture.snapshots, drKmsKeyArn: await seedKey(dr) },
    vault: {
      account: vaultAccount,
      kmsKeyArn: vaultKey,
      roleArn: role,
      bucket,
      copyCaps: { instance: 20, cluster: 5 },
      quotas: { instanceSnapshots: 100, clusterSnapshots: 100 },
    },
  };
  await seedVaultBucketAs(role, dr, bucket);
  const vault = await seedVault(policy, ACCOUNT);
  const rds = rdsIn(primary).client;
  await seedInstance(rds, 'orders-db');
  await seedInstance(rds, 'reports-db', { backup: 'lifeboat' });
  await seedCluster(rds, 'billing');
  return { policy, vault, vaultRds: await clientAs(admin, RDSClient, dr) };
}
