import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeGlobalClustersCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { slotOf } from '../../shared/naming/slot.js';
import type { Policy } from '../../shared/policy/schema.js';
import {
  copiesWaitingText,
  missedReasons,
  missesObjective,
  readPosture,
} from '../../shared/posture/posture.js';
import { printPosture } from '../../terminal/posture.js';
import { captureIo } from '../support/capture-io.js';
import { fixturePolicy } from '../support/policy.js';
import {
  emptyRegion,
  instance,
  instanceSnapshot,
  lifeboatTags,
  type RegionState,
  simulateRegion,
} from '../support/rds-world.js';

// The posture's account of DR copies that wait: moto cannot hold 20 copies in flight for hours,
// so the regions are simulated (aws-sdk-client-mock over an in-memory RDS).

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const NOW = new Date('2026-11-28T05:00:00Z');
const HOUR = 3_600_000;
const TODAY = slotOf(new Date('2026-11-28T02:00:00Z'));
const YESTERDAY = slotOf(new Date('2026-11-27T02:00:00Z'));
const THREE_DAYS_AGO = slotOf(new Date('2026-11-25T02:00:00Z'));
const DATABASES = 25;

const policy: Policy = {
  ...fixturePolicy(),
  targets: [{ kind: 'rds-instance', tags: { fleet: 'shop' } }],
  objectives: {
    default: 'standard',
    tiers: { standard: { rpo: '1d', rto: '2h' } },
    enforceContinuousBackups: false,
    postureSchedule: 'rate(1 hour)',
  },
};

const s3 = mockClient(S3Client);
const cloudwatch = mockClient(CloudWatchClient);
let primary: RegionState;
let dr: RegionState;
let primaryClient: RDSClient;
let drClient: RDSClient;

const id = (i: number) => `shop-${String(i).padStart(2, '0')}`;
const snapshotOf = (db: string, slot: typeof TODAY, region: string, status = 'available') =>
  instanceSnapshot(`lifeboat-${db}-${slot.id}`, region, db, {
    Status: status,
    TagList: lifeboatTags(db, slot.id),
  });

beforeEach(() => {
  s3.reset();
  cloudwatch.reset();
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
  primary = emptyRegion();
  dr = emptyRegion();
  for (let i = 0; i < DATABASES; i += 1) {
    primary.instances.push({
      ...instance(id(i), PRIMARY, [{ Key: 'fleet', Value: 'shop' }]),
      BackupRetentionPeriod: 0,
    });
  }
  primaryClient = new RDSClient({ region: PRIMARY });
  drClient = new RDSClient({ region: DR });
  for (const [client, region, state] of [
    [primaryClient, PRIMARY, primary],
    [drClient, DR, dr],
  ] as const) {
    const stub = simulateRegion(client, region, state);
    stub.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({ DBInstanceAutomatedBackups: [] });
    stub.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [] });
  }
});

function posture() {
  return readPosture(
    {
      primary: { region: PRIMARY, client: primaryClient },
      dr: { region: DR, client: drClient },
      reports: { s3: new S3Client({ region: PRIMARY }), bucket: 'reports' },
      drMetrics: new CloudWatchClient({ region: DR }),
    },
    policy,
    NOW,
  );
}

describe('the posture’s DR copies that wait', () => {
  it('says a tier’s DR RPO is out of the copies’ reach when RDS’s cap holds them back, and names what would reach it', async () => {
    // Prepare: today's snapshots are taken; 20 of their copies are in flight (RDS's cap), and
    // five more wait behind them, their DR region holding only a copy three days old.
    for (let i = 0; i < DATABASES; i += 1) {
      primary.snapshots.push(snapshotOf(id(i), TODAY, PRIMARY));
      dr.snapshots.push(snapshotOf(id(i), THREE_DAYS_AGO, DR));
      if (i < 20) dr.snapshots.push(snapshotOf(id(i), TODAY, DR, 'creating'));
    }

    // Act
    const result = await posture();

    // Assess
    expect(result.copiesWaiting).toEqual({
      instance: 5,
      cluster: 0,
      inFlight: { instance: 20, cluster: 0 },
      caps: { instance: 20, cluster: 5 },
      oldestSeconds: (3 * HOUR) / 1000,
    });
    const waiting = result.databases.filter((d) => d.drCopyWaiting);
    expect(waiting.map((d) => d.identifier)).toEqual([id(20), id(21), id(22), id(23), id(24)]);
    const gap = waiting[0]?.gaps.at(-1) ?? '';
    expect(waiting[0]?.holds.drRpo).toBe(false);
    expect(gap).toContain(`lifeboat-${id(20)}-${TODAY.id} has waited 3h for a DR copy`);
    expect(gap).toContain("one of 5 instance copies waiting for room under RDS's cap of 20");
    expect(gap).toContain("copies alone cannot keep tier standard's DR RPO of 1d");
    expect(gap).toContain('replicating its automated backups to the DR region would');
    // The copying ones do not wait, and their DR RPO is still missed only by the old copy.
    const copying = result.databases.find((d) => d.identifier === id(0));
    expect(copying?.drCopyWaiting).toBeNull();
    expect(copying?.gaps.some((g) => g.includes('waited'))).toBe(false);
  });

  it('blames the pipeline, not the cap, when a copy waits with room under the cap', async () => {
    // Prepare: yesterday's snapshot of one database was never copied, nothing is in flight.
    primary.snapshots.push(snapshotOf(id(0), YESTERDAY, PRIMARY));
    dr.snapshots.push(snapshotOf(id(0), THREE_DAYS_AGO, DR));

    // Act
    const result = await posture();

    // Assess
    const d = result.databases.find((x) => x.identifier === id(0));
    expect(result.copiesWaiting.instance).toBe(1);
    expect(d?.gaps.at(-1)).toBe(
      `its newest snapshot lifeboat-${id(0)}-${YESTERDAY.id} has waited 1d 3h for a DR copy with 0 of RDS's 20 instance copies in flight to ${DR}: the pipeline is not starting it (its alerts say why)`,
    );
  });

  it('reports nothing waiting when every newest snapshot has its copy', async () => {
    // Prepare
    primary.snapshots.push(snapshotOf(id(0), TODAY, PRIMARY));
    dr.snapshots.push(snapshotOf(id(0), TODAY, DR));

    // Act
    const result = await posture();

    // Assess
    expect(result.copiesWaiting).toEqual({
      instance: 0,
      cluster: 0,
      inFlight: { instance: 0, cluster: 0 },
      caps: { instance: 20, cluster: 5 },
      oldestSeconds: null,
    });
    expect(copiesWaitingText(result)).toBeUndefined();
    expect(result.databases.find((d) => d.identifier === id(0))?.holds.drRpo).toBe(true);
  });

  it('prints every gap and every missed objective with a reason that says something', async () => {
    // Prepare
    for (let i = 0; i < DATABASES; i += 1) {
      primary.snapshots.push(snapshotOf(id(i), TODAY, PRIMARY));
      if (i < 20) dr.snapshots.push(snapshotOf(id(i), TODAY, DR, 'creating'));
    }
    const result = await posture();
    const io = captureIo();

    // Act
    printPosture(io, result);

    // Assess
    const out = io.stdout();
    expect(out).not.toMatch(/\(\s*\)/);
    expect(out).not.toMatch(/gap:\s*$/m);
    expect(out).toContain('DR copies waiting: 5 instance, 0 cluster');
    const missing = result.databases.filter(missesObjective);
    expect(missing.length).toBeGreaterThan(0);
    for (const d of missing) {
      expect(missedReasons(d).length).toBeGreaterThan(0);
      expect(missedReasons(d).every((r) => r.trim().length > 0)).toBe(true);
    }
  });
});
