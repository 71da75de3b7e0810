import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Answer,
  failure,
  happyDrill,
  pollAnswer,
  runScripted,
  SMOKE_PASSED,
} from '../support/machine-world.js';

// Whatever happens to a drill, the drill machine cleans up after itself and tells the truth:
// random outcomes for every task, the real ASL file, the real report.

const rdsOutcome = fc.constantFrom<'ok' | 'throttled' | 'fails'>(
  'ok',
  'ok',
  'ok',
  'throttled',
  'fails',
);

const rdsAnswers = (outcome: 'ok' | 'throttled' | 'fails'): Answer[] =>
  outcome === 'ok'
    ? [{}]
    : outcome === 'throttled'
      ? [failure('Rds.RdsException', 'Rate exceeded'), {}]
      : [failure('Rds.InvalidDbSnapshotStateException')];

const worldArb = fc.record({
  kind: fc.constantFrom<'instance' | 'cluster'>('instance', 'cluster'),
  restore: rdsOutcome,
  createInstance: rdsOutcome,
  waiting: fc.integer({ min: 0, max: 6 }),
  pollEnd: fc.constantFrom('available', 'available', 'available', 'failed', 'timed-out', 'error'),
  smoke: fc.constantFrom(
    'passes',
    'passes',
    'fails',
    'refused-then-passes',
    'refused',
    'misconfigured',
  ),
  teardownPending: fc.integer({ min: 0, max: 12 }),
  teardownThrows: fc.boolean(),
  alertFails: fc.boolean(),
});

type World = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;

function scriptOf(world: World) {
  const polls: Answer[] = Array.from({ length: world.waiting }, (_, i) =>
    pollAnswer('waiting', i + 1),
  );
  const n = world.waiting + 1;
  polls.push(
    world.pollEnd === 'error'
      ? failure('AccessDeniedException')
      : pollAnswer(world.pollEnd, n, world.pollEnd === 'failed' ? 'failed' : undefined),
  );
  const refused = failure('SmokeConnectionError', 'connect ECONNREFUSED');
  const smoke: Answer[] = {
    passes: [SMOKE_PASSED],
    fails: [
      {
        ...SMOKE_PASSED,
        passed: false,
        checks: [{ name: 'orders exist', passed: false, expected: 'at least 1000', value: '1' }],
      },
    ],
    'refused-then-passes': [refused, SMOKE_PASSED],
    refused: [refused],
    misconfigured: [failure('SmokeConfigError', 'secret prod/x must be a JSON object')],
  }[world.smoke] as Answer[];
  const teardown = (input: unknown) => {
    const attempts = (input as { attempts: number }).attempts + 1;
    if (world.teardownThrows) throw failure('NotThisDrillError');
    const done = attempts > world.teardownPending;
    return { done, deleted: done ? ['db'] : [], gone: [], pending: done ? [] : ['db'], attempts };
  };
  return {
    ...happyDrill(world.kind),
    'rds:restoreDBInstanceFromDBSnapshot': rdsAnswers(world.restore),
    'rds:restoreDBClusterFromSnapshot': rdsAnswers(world.restore),
    'rds:createDBInstance': rdsAnswers(world.createInstance),
    drillPoll: polls,
    drillSmoke: smoke,
    drillTeardown: teardown,
    'sns:publish': world.alertFails ? failure('Sns.InternalErrorException') : { MessageId: 'm' },
  };
}

describe('restore-drill machine, whatever the tasks answer', () => {
  it('tears down whatever it started, succeeds only when the checks passed and teardown finished, and stays within its transition budget', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        // Act
        const run = await runScripted('restore-drill', { target: 'orders-db' }, scriptOf(world));

        // Assess: the end is always a verdict of the report.
        expect(['DrillSucceeded', 'DrillFailed']).toContain(run.path.at(-1));
        // Anything that may have created a database is followed by teardown.
        const created = run.path.findIndex(
          (s) => s === 'RestoreInstance' || s === 'RestoreCluster',
        );
        expect(created).toBeGreaterThan(-1);
        expect(run.path.indexOf('Teardown')).toBeGreaterThan(created);
        // The verdict is the truth.
        const smoke = run.calls.filter((c) => c.task === 'drillSmoke').length > 0;
        const checksPassed =
          smoke && (world.smoke === 'passes' || world.smoke === 'refused-then-passes');
        const teardownFinished = !world.teardownThrows && world.teardownPending < 10;
        const restored =
          world.restore !== 'fails' &&
          (world.kind === 'instance' || world.createInstance !== 'fails');
        const available = restored && world.pollEnd === 'available';
        expect(run.status === 'SUCCEEDED').toBe(available && checksPassed && teardownFinished);
        // A teardown that gave up alerts.
        const alerted = run.calls.some((c) => c.task === 'sns:publish');
        expect(alerted).toBe(!teardownFinished);
        // Transitions: at most 60, plus 3 per poll and per teardown attempt, plus retries.
        const polls = run.calls.filter((c) => c.task === 'drillPoll').length;
        const teardowns = run.calls.filter((c) => c.task === 'drillTeardown').length;
        expect(run.transitions - run.retried.length).toBeLessThanOrEqual(
          60 + 3 * (polls + teardowns),
        );
        expect(run.largestPayloadBytes).toBeLessThan(32 * 1024);
      }),
      { numRuns: 500 },
    );
  }, 120_000);
});
