import { type LocalExecution, runLocally } from '../../local/step-functions/local-state-machine.js';
import { drillReport, drillSummary } from '../../shared/drills/drill-report.js';
import { failoverReport } from '../../shared/failover/failover-report.js';
import type { StateMachineName } from '../../shared/naming/stack.js';
import { lambdaTasksOf, loadDefinition } from '../../state-machines/definitions.js';

/** An error as a task raises it: Step Functions matches Retry and Catch on its name. */
export function failure(name: string, message = `${name} (scripted)`): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** What a task answers on each call: a value, an error to raise, or a function of its input. */
export type Answer = unknown | Error | ((input: unknown) => unknown);

/**
 * Scripted answers per task: a Lambda task by its function name (drillPoll), an SDK task as
 * `service:action` (rds:restoreDBInstanceFromDBSnapshot). Each call takes the next answer; the
 * last one repeats.
 */
export type Script = Record<string, Answer | readonly Answer[]>;

export interface ScriptedRun extends LocalExecution {
  /** Every task call in order, with its input. */
  readonly calls: readonly { readonly task: string; readonly input: unknown }[];
  /** The calls of one task. */
  callsOf(task: string): unknown[];
}

function answerer(script: Script, task: string, calls: { task: string; input: unknown }[]) {
  let n = 0;
  return async (input: unknown) => {
    calls.push({ task, input });
    const answers = script[task];
    if (answers === undefined) throw new Error(`the script has no answer for ${task}`);
    const list = Array.isArray(answers) ? answers : [answers];
    const answer = list[Math.min(n, list.length - 1)];
    n++;
    if (answer instanceof Error) throw answer;
    return typeof answer === 'function'
      ? (answer as (i: unknown) => unknown)(input)
      : structuredClone(answer);
  };
}

const definitions = new Map<StateMachineName, ReturnType<typeof loadDefinition>>();

/** Runs a machine's ASL file with scripted tasks, waits time-accelerated. */
export async function runScripted(
  machine: StateMachineName,
  input: unknown,
  script: Script,
): Promise<ScriptedRun> {
  const calls: { task: string; input: unknown }[] = [];
  const definition = definitions.get(machine) ?? loadDefinition(machine);
  definitions.set(machine, definition);
  const lambdas = Object.fromEntries(
    lambdaTasksOf(definition).map((name) => [name, answerer(script, name, calls)]),
  );
  const sdkAnswerers = new Map<string, (input: unknown) => Promise<unknown>>();
  const execution = await runLocally(definition, input, {
    lambdas,
    sdk: (service, action, parameters) => {
      const key = `${service}:${action}`;
      let answer = sdkAnswerers.get(key);
      if (!answer) {
        answer = answerer(script, key, calls);
        sdkAnswerers.set(key, answer);
      }
      return answer(parameters);
    },
    waits: 'instant',
    executionName: 'scripted',
    startTime: new Date('2026-11-21T04:00:00Z'),
  });
  return {
    ...execution,
    calls,
    callsOf: (task) => calls.filter((c) => c.task === task).map((c) => c.input),
  };
}

// ---- The restore drill ----

export const DRILL_STARTED = '2026-11-21T04:00:00.000Z';

export function drillPlanFixture(kind: 'instance' | 'cluster' = 'instance') {
  const cluster = kind === 'cluster';
  return {
    drillId: cluster ? 'lb-drill-billing-261121040000' : 'lb-drill-orders-db-261121040000',
    policy: 'test-policy',
    target: cluster ? 'billing' : 'orders-db',
    kind,
    region: 'eu-central-1',
    startedAt: DRILL_STARTED,
    snapshot: {
      id: 'lifeboat-orders-db-202611200300',
      arn: 'arn:aws:rds:eu-central-1:123456789012:snapshot:lifeboat-orders-db-202611200300',
      time: '2026-11-20T03:00:00.000Z',
      verifiedAt: '2026-11-20T06:00:00.000Z',
    },
    restore: 'snapshot' as 'snapshot' | 'point-in-time',
    pointInTime: null as null | {
      time: string;
      sourceIdentifier: string | null;
      sourceBackupsArn: string | null;
    },
    objectives: null as null | { tier: string; rpoSeconds: number; rtoSeconds: number },
    engine: cluster ? 'aurora-postgresql' : 'postgres',
    instanceId: cluster ? 'lb-drill-billing-261121040000-w' : 'lb-drill-orders-db-261121040000',
    clusterId: cluster ? 'lb-drill-billing-261121040000' : null,
    instanceClass: 'db.t4g.medium',
    network: { subnetGroup: 'private-db', securityGroupIds: ['sg-0a1b2c3d4e5f60718'] },
    tags: [{ Key: 'lifeboat:drill', Value: 'lb-drill-orders-db-261121040000' }],
    pollSeconds: 60,
    maxPolls: 120,
    maxTeardowns: 10,
    alertTopicArn: 'arn:aws:sns:eu-central-1:123456789012:lifeboat-alerts',
    check: {
      database: 'orders',
      credentialsSecret: 'prod/orders-db/master',
      engine: null,
      checks: [{ name: 'orders exist', sql: 'select count(*) from orders', atLeast: 1000 }],
      freshness: 'select max(created_at) from orders',
      tls: 'verify-full',
    },
  };
}

const poll = (
  state: string,
  count: number,
  status = state === 'available' ? 'available' : 'creating',
) => ({
  count,
  state,
  status,
  address: state === 'available' ? 'lb-drill.example.internal' : null,
  port: state === 'available' ? 5432 : null,
  observedAt: `2026-11-21T04:${String(10 + count).padStart(2, '0')}:00.000Z`,
});

/** Polls answering `waiting` n times, then `available`. */
export const pollsUntilAvailable = (waiting: number) => [
  ...Array.from({ length: waiting }, (_, i) => poll('waiting', i + 1)),
  poll('available', waiting + 1),
];
export const pollAnswer = poll;

export const SMOKE_PASSED = {
  passed: true,
  checks: [{ name: 'orders exist', passed: true, expected: 'at least 1000', value: '1200' }],
  newestData: '2026-11-21T02:00:00.000Z',
  checkedAt: '2026-11-21T04:20:00.000Z',
};

export const TEARDOWN_DONE = {
  done: true,
  deleted: ['lb-drill-orders-db-261121040000'],
  gone: [],
  pending: [],
  attempts: 1,
};

/** A drill that restores, becomes available at the first poll, passes its checks and tears down. */
export function happyDrill(kind: 'instance' | 'cluster' = 'instance'): Script {
  const plan = drillPlanFixture(kind);
  return {
    drillPlan: (event: unknown) => ({
      input: (event as { input: unknown }).input,
      plan,
      teardown: { done: false, deleted: [], gone: [], pending: [], attempts: 0 },
    }),
    'rds:restoreDBInstanceFromDBSnapshot': { DbInstance: { DbInstanceStatus: 'creating' } },
    'rds:restoreDBClusterFromSnapshot': { DbCluster: { Status: 'creating' } },
    'rds:createDBInstance': { DbInstance: { DbInstanceStatus: 'creating' } },
    drillPoll: pollsUntilAvailable(0),
    drillSmoke: SMOKE_PASSED,
    drillTeardown: TEARDOWN_DONE,
    // The real report, from the state the machine hands over.
    drillReport: (state: unknown) => {
      const report = drillReport(state, new Date('2026-11-21T04:30:00Z'));
      return drillSummary(report, { json: 'r.json', markdown: 'r.md' });
    },
    'sns:publish': { MessageId: 'm-1' },
  };
}

// ---- The regional failover ----

export const FAILOVER_INPUT = {
  target: 'orders-db',
  confirm: 'failover orders-db to eu-west-1',
  planned: true,
};

export function preflightFixture(overrides: Record<string, unknown> = {}) {
  return {
    failoverId: 'scripted',
    policy: 'test-policy',
    target: 'orders-db',
    region: 'eu-west-1',
    kind: 'replica',
    planned: true,
    force: false,
    startedAt: '2026-11-21T04:00:00.000Z',
    drDatabase: 'orders-db-dr',
    globalCluster: null,
    drClusterArn: null,
    promotion: 'replica',
    endpoint: 'orders-db-dr.example.eu-west-1.rds.amazonaws.com',
    dns: {
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      recordName: 'orders-db.db.example.internal',
      ttl: 60,
      current: 'orders-db.example.eu-central-1.rds.amazonaws.com',
      switched: false,
    },
    verify: { url: 'http://dr.example.internal/health' },
    pollSeconds: 30,
    maxPolls: 120,
    preconditions: [{ name: 'confirmation', status: 'pass', detail: 'confirmed' }],
    ...overrides,
  };
}

export const promotionAnswer = (state: string, count: number) => ({
  state,
  status: state === 'promoted' ? 'available' : 'modifying, still a replica',
  endpoint: 'orders-db-dr.example.eu-west-1.rds.amazonaws.com',
  count,
  observedAt: `2026-11-21T04:0${Math.min(count, 9)}:30.000Z`,
});

/** A failover that promotes at the first check, switches DNS, is healthy, and reports. */
export function happyFailover(preflight: Record<string, unknown> = {}): Script {
  const plan = preflightFixture(preflight);
  return {
    failoverPreflight: (event: unknown) => ({
      input: (event as { input: unknown }).input,
      preflight: plan,
      promotion: {
        state: plan.promotion === 'promoted' ? 'promoted' : 'waiting',
        status: String(plan.promotion),
        endpoint: plan.endpoint,
        count: 0,
        observedAt: '2026-11-21T04:00:05.000Z',
      },
    }),
    'rds:promoteReadReplica': { DbInstance: { DbInstanceStatus: 'modifying' } },
    'rds:switchoverGlobalCluster': { GlobalCluster: {} },
    'rds:failoverGlobalCluster': { GlobalCluster: {} },
    failoverStatus: promotionAnswer('promoted', 1),
    'route53:changeResourceRecordSets': {
      ChangeInfo: {
        Id: '/change/C0123456789',
        Status: 'PENDING',
        SubmittedAt: '2026-11-21T04:02:00.000Z',
      },
    },
    'route53:getChange': { ChangeInfo: { Id: '/change/C0123456789', Status: 'INSYNC' } },
    failoverVerify: {
      healthy: true,
      detail: 'http://dr.example.internal/health: HTTP 200',
      checkedAt: '2026-11-21T04:03:00.000Z',
    },
    failoverReport: (state: unknown) => {
      const report = failoverReport(state, new Date('2026-11-21T04:05:00Z'));
      return {
        succeeded: report.succeeded,
        failure: report.failure,
        rtoSeconds: report.rtoSeconds,
        json: 'r.json',
        markdown: 'r.md',
      };
    },
  };
}
