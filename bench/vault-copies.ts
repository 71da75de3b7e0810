import { performance } from 'node:perf_hooks';
import { KMSClient } from '@aws-sdk/client-kms';
import { CreateDBSnapshotCommand } from '@aws-sdk/client-rds';
import { seedInstance, seedKeyAs } from '../local/demo/seed.js';
import { clientIn, rdsIn } from '../shared/aws/clients.js';
import { keyBook } from '../shared/aws/key-states.js';
import { RateLimiter } from '../shared/aws/rate-limiter.js';
import { slotOf, snapshotIdentifier } from '../shared/naming/slot.js';
import { silentLog } from '../shared/observability/job-log.js';
import type { VaultAccountPolicy } from '../shared/policy/schema.js';
import { listManualSnapshots } from '../shared/rds/snapshots.js';
import type { Target } from '../shared/rds/targets.js';
import { sendToVault } from '../shared/snapshots/vault-copies.js';
import { vaultAccountOf } from '../shared/vault-account/vault-account.js';
import { benchAws, countCalls } from './measure.js';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const VAULT = '444455556666';
const ROLE = `arn:aws:iam::${VAULT}:role/lifeboat-vault-writer-bench`;
const DATABASES = 20;
const SLOTS = 10;

/**
 * 200 snapshots (20 databases, 10 daily slots) sent to a vault account against a local AWS with
 * two accounts: the calls per snapshot (the floor is share, copy and unshare; describes are
 * amortised over pages) and the time, run after run until every snapshot is in the vault (the
 * copy cap lets 20 instance copies start per run; the local AWS finishes each copy at once).
 */
export async function benchVaultCopies(): Promise<string[]> {
  process.env.MOTO_RDS_SNAPSHOT_LIMIT ??= '5000';
  const aws = await benchAws();
  try {
    const source = rdsIn(REGION);
    const targets: Target[] = [];
    for (let i = 0; i < DATABASES; i += 1) {
      const id = `bench-${String(i).padStart(2, '0')}`;
      await seedInstance(source.client, id);
      targets.push({ kind: 'instance', identifier: id, arn: '', engine: 'postgres' } as Target);
      for (let day = 1; day <= SLOTS; day += 1) {
        const slot = slotOf(new Date(Date.UTC(2026, 10, day, 3)));
        await source.client.send(
          new CreateDBSnapshotCommand({
            DBInstanceIdentifier: id,
            DBSnapshotIdentifier: snapshotIdentifier(id, slot),
          }),
        );
      }
    }
    const vaultPolicy: VaultAccountPolicy = {
      account: VAULT,
      kmsKeyArn: await seedKeyAs(ROLE, REGION),
      roleArn: ROLE,
      copyCaps: { instance: 20, cluster: 5 },
      quotas: { instanceSnapshots: 1000, clusterSnapshots: 100 },
    };
    const vault = vaultAccountOf(vaultPolicy, REGION, 'bench');
    const kms = clientIn(KMSClient, REGION);
    const calls = countCalls([source.client, vault.rds.client, kms]);
    const snapshots = await listManualSnapshots(source);
    calls.reset();

    const start = performance.now();
    let runs = 0;
    let sent = 0;
    while (sent < snapshots.length && runs < 50) {
      runs += 1;
      const result = await sendToVault(
        {
          source,
          keys: keyBook(() => kms, REGION, silentLog),
          vault,
          limiter: new RateLimiter({ perSecond: 1000, burst: 100 }),
          log: silentLog,
        },
        { name: 'bench', vault: vaultPolicy },
        ACCOUNT,
        targets,
        snapshots,
      );
      if (result.failures.length > 0) throw new Error(JSON.stringify(result.failures[0]));
      sent += result.outcomes.filter((o) => o.outcome === 'started').length;
    }
    const seconds = (performance.now() - start) / 1000;
    const per = (name: string) => calls.get(name) / snapshots.length;
    const describes =
      calls.get('DescribeDBSnapshotsCommand') + calls.get('DescribeDBClusterSnapshotsCommand');
    const total =
      describes +
      calls.get('ModifyDBSnapshotAttributeCommand') +
      calls.get('CopyDBSnapshotCommand') +
      calls.get('DescribeKeyCommand');
    return [
      `Vault copies: ${snapshots.length} snapshots (${DATABASES} databases x ${SLOTS} slots) into a second account, local AWS`,
      `  runs until all are in the vault: ${runs} (copy cap 20 per run), ${sent} copies started`,
      `  calls per snapshot: ${(total / snapshots.length).toFixed(2)} (floor 3: share ${per('ModifyDBSnapshotAttributeCommand').toFixed(2)} incl. unshare, copy ${per('CopyDBSnapshotCommand').toFixed(2)}; describes ${(describes / snapshots.length).toFixed(2)}, DescribeKey ${per('DescribeKeyCommand').toFixed(2)})`,
      `  time: ${seconds.toFixed(1)} s in all, ${((seconds * 1000) / snapshots.length).toFixed(0)} ms per snapshot`,
    ];
  } finally {
    await aws.stop();
  }
}
