import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rdsIn } from '../../shared/aws/clients.js';
import scheduled from '../events/scheduled.json' with { type: 'json' };
import { lambdaContext } from '../support/lambda-context.js';
import { packagedPolicyFile } from '../support/policy.js';
import {
  cluster,
  emptyRegion,
  instance,
  instanceSnapshot,
  simulateRegion,
} from '../support/rds-world.js';
import { simulateKms, simulateS3, TEST_VAULT_ENV } from '../support/vault-world.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
let handler: Handler;

beforeAll(async () => {
  vi.stubEnv('LIFEBOAT_POLICY_PATH', packagedPolicyFile());
  for (const [key, value] of Object.entries(TEST_VAULT_ENV)) vi.stubEnv(key, value);
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_DEV', 'false');
  ({ handler } = (await import('../../functions/snapshot-rds.js')) as unknown as {
    handler: Handler;
  });
});

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('snapshot-rds metrics', () => {
  it('publishes the manual snapshot quota use per region and kind as EMF, for the 80% alarm', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-21T02:00:30Z'));
    const primary = emptyRegion();
    primary.instances.push(
      instance('orders-db', 'eu-central-1'),
      instance('t', 'eu-central-1', [{ Key: 'backup', Value: 'lifeboat' }]),
    );
    primary.clusters.push(cluster('billing', 'eu-central-1'));
    for (let i = 0; i < 79; i += 1)
      primary.snapshots.push(instanceSnapshot(`manual-${i}`, 'eu-central-1', 'x'));
    simulateRegion(rdsIn('eu-central-1').client, 'eu-central-1', primary);
    simulateRegion(rdsIn('eu-west-1').client, 'eu-west-1', emptyRegion());
    mockClient(SNSClient).on(PublishCommand).resolves({});
    simulateS3();
    simulateKms();
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });

    // Act
    await handler(structuredClone(scheduled), lambdaContext());

    // Assess
    spy.mockRestore();
    const emf = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
    const quota = emf.find((m) => m.Region === 'eu-central-1' && m.Kind === 'instance');
    expect(quota).toMatchObject({ service: 'snapshot-rds', ManualSnapshotQuotaUsedPercent: 81 });
    expect(quota._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Lifeboat',
      Dimensions: [['service', 'Region', 'Kind']],
    });
    const run = emf.find((m) => 'SnapshotsCreated' in m);
    expect(run).toMatchObject({ SnapshotsCreated: 3, SnapshotFailures: 0 });
    // The heartbeat of a run that succeeded, which the job's alarm waits for.
    expect(run).toMatchObject({ service: 'snapshot-rds', JobSucceeded: 1 });
    vi.useRealTimers();
  });

  it('sends no heartbeat for a run that failed', async () => {
    // Prepare: the primary region's databases cannot be listed
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-21T02:00:30Z'));
    const primary = emptyRegion();
    primary.instances.push(instance('orders-db', 'eu-central-1'));
    simulateRegion(rdsIn('eu-central-1').client, 'eu-central-1', primary);
    simulateRegion(rdsIn('eu-west-1').client, 'eu-west-1', emptyRegion());
    mockClient(SNSClient).on(PublishCommand).resolves({});
    simulateS3();
    simulateKms();
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });

    // Act: the policy's aurora-cluster billing does not exist, a failed target
    const failure = await handler(structuredClone(scheduled), lambdaContext()).catch(
      (error: unknown) => error,
    );

    // Assess
    spy.mockRestore();
    vi.useRealTimers();
    expect(String(failure)).toContain('failed');
    const emf = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
    expect(emf.find((m) => 'SnapshotsCreated' in m)?.SnapshotFailures).toBeGreaterThan(0);
    expect(emf.some((m) => 'JobSucceeded' in m)).toBe(false);
  });
});
