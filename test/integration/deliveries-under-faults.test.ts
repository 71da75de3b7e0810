import { KMSClient } from '@aws-sdk/client-kms';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../local/aws/fault-proxy.js';
import { seedCluster, seedInstance, seedKey, seedVault } from '../../local/demo/seed.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import { readLedger, readRun } from '../../shared/manifest/manifest-ledger.js';
import { runRecorder } from '../../shared/manifest/run-recorder.js';
import { slotOf } from '../../shared/naming/slot.js';
import { silentLog } from '../../shared/observability/job-log.js';
import type { Policy } from '../../shared/policy/schema.js';
import { runSnapshotJob, type SnapshotJobResult } from '../../shared/snapshots/snapshot-job.js';
import type { Vault } from '../../shared/vault/vault.js';
import { runVerificationJob } from '../../shared/verification/verification-job.js';
import { useLocalAws } from '../support/local-aws.js';
import { fixturePolicy } from '../support/policy.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const DELIVERIES = 5;

const local = useLocalAws();
let proxy: FaultProxy;
let policy: Policy;
let vault: Vault;

beforeAll(async () => {
  const drKey = await seedKey(DR);
  const base = fixturePolicy();
  policy = { ...base, snapshots: { ...base.snapshots, drKmsKeyArn: drKey } };
  vault = await seedVault(policy, ACCOUNT);
  const rds = rdsIn(PRIMARY).client;
  await seedInstance(rds, 'orders-db');
  await seedInstance(rds, 'reports-db', { backup: 'lifeboat' });
  await seedCluster(rds, 'billing');
  proxy = await startFaultProxy(local.aws.endpoint);
});

afterAll(async () => {
  await proxy?.stop();
});

/** A delivery's own clients, reaching AWS through the proxy, retrying as little as the SDK may. */
function clientsVia(endpoint: string) {
  const config = { endpoint, maxAttempts: 2, retryMode: 'standard' as const };
  return {
    primary: { region: PRIMARY, client: new RDSClient({ region: PRIMARY, ...config }) },
    dr: { region: DR, client: new RDSClient({ region: DR, ...config }) },
    recorder: runRecorder({
      s3: new S3Client({ region: PRIMARY, forcePathStyle: true, ...config }),
      kms: new KMSClient({ region: PRIMARY, ...config }),
      vault,
      account: ACCOUNT,
    }),
    kmsIn: (region: string) => new KMSClient({ region, ...config }),
  };
}

function deliver(endpoint: string, at: Date): Promise<SnapshotJobResult> {
  return runSnapshotJob(
    {
      ...clientsVia(endpoint),
      limiter: new RateLimiter({ perSecond: 1000, burst: 1000 }),
      log: silentLog,
    },
    policy,
    slotOf(at),
  );
}

/** What both regions hold for the slot, straight from the local AWS. */
async function heldFor(slotId: string): Promise<string[]> {
  const arns: string[] = [];
  for (const region of [PRIMARY, DR]) {
    const rds = rdsIn(region).client;
    const instances = await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }));
    const clusters = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }),
    );
    arns.push(
      ...(instances.DBSnapshots ?? []).map((s) => s.DBSnapshotArn ?? ''),
      ...(clusters.DBClusterSnapshots ?? []).map((s) => s.DBClusterSnapshotArn ?? ''),
    );
  }
  return arns.filter((arn) => arn.endsWith(`-${slotId}`)).sort();
}

async function recordedFor(runId: string): Promise<string[]> {
  const s3 = clientIn(S3Client, PRIMARY);
  const ledger = await readLedger(s3, vault.bucket, policy.name);
  const access = {
    s3,
    bucket: vault.bucket,
    kms: clientIn(KMSClient, PRIMARY),
    manifestKeyArn: vault.manifestKeys.primary,
  };
  const record = await readRun(access, ledger, runId);
  return [
    ...(record?.artifacts.snapshots ?? []).map((a) => a.arn),
    ...(record?.artifacts.drCopies ?? []).map((a) => a.arn),
  ].sort();
}

function verify(runId: string) {
  return runVerificationJob(
    {
      s3: clientIn(S3Client, PRIMARY),
      kms: clientIn(KMSClient, PRIMARY),
      site: 'primary',
      primary: rdsIn(PRIMARY),
      dr: rdsIn(DR),
      vault,
      limiter: new RateLimiter({ perSecond: 1000, burst: 1000 }),
      log: silentLog,
    },
    policy,
    new Date(),
    { runIds: [runId] },
  );
}

describe('five concurrent deliveries of one slot, through a proxy that throttles and loses answers', () => {
  it('takes each snapshot once, and its record lists them all or verification names the rest', async () => {
    // Prepare: 15% of calls throttled, 15% done but their answers lost
    const at = new Date(Date.now() - 3_600_000);
    const slot = slotOf(at);
    proxy.faults(0.15, 0.15);

    // Act
    const results = await Promise.allSettled(
      Array.from({ length: DELIVERIES }, () => deliver(proxy.endpoint, at)),
    );
    proxy.faults(0, 0);
    const held = await heldFor(slot.id);
    const recorded = await recordedFor(`snapshots-${slot.id}`);
    const first = await verify(`snapshots-${slot.id}`);
    const named = (first.runs[0]?.checks ?? [])
      .filter((c) => c.reason.startsWith('unrecorded:'))
      .map((c) => c.artifact);

    // Assess: at most one snapshot per target and one copy of each (the faults may have kept
    // every delivery from some), each recorded or named
    expect(proxy.counts.throttled + proxy.counts.dropped).toBeGreaterThan(10);
    expect(results).toHaveLength(DELIVERIES);
    expect(held.filter((arn) => arn.includes(`:${PRIMARY}:`)).length).toBeLessThanOrEqual(3);
    expect(held.filter((arn) => arn.includes(`:${DR}:`)).length).toBeLessThanOrEqual(3);
    expect(held.filter((arn) => !recorded.includes(arn) && !named.includes(arn))).toEqual([]);
  });

  it('leaves the slot fully recorded, and verified, after one more delivery', async () => {
    // Prepare
    const at = new Date(Date.now() - 3_600_000);
    const slot = slotOf(at);

    // Act
    const again = await deliver(local.aws.endpoint, at);
    const verification = await verify(`snapshots-${slot.id}`);

    // Assess
    expect(again.failures).toEqual([]);
    expect((await heldFor(slot.id)).filter((arn) => arn.includes(`:${PRIMARY}:`))).toHaveLength(3);
    expect(await recordedFor(`snapshots-${slot.id}`)).toEqual(await heldFor(slot.id));
    expect(
      verification.runs[0]?.checks.filter((c) => c.status === 'failed' && c.kind !== 'failure'),
    ).toEqual([]);
  });
});
