import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { JobFailure } from '../alerts/failure-alert.js';
import type { StateMachineName } from '../naming/stack.js';
import type { JobLog } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import type { Vault } from '../vault/vault.js';

/**
 * What a task's wiring reads from where it runs: in Lambda, the function's environment; in a
 * local run, the CLI's options. Every face of a task builds its dependencies from this, through
 * the task's own `wire`.
 */
export interface TaskEnvironment<S extends object = object> {
  /** The region the function acts in: the drill's site, or the DR region for failover. */
  readonly region: string;
  readonly alertTopicArn: string;
  /** The stack's bucket in `region`, where reports go ('' where the task writes none). */
  readonly reportBucket: string;
  /**
   * The DR region's bucket, where a report written in the primary region is copied, so that the
   * DR region holds every report too. Absent in the DR region, and where nothing is copied.
   */
  readonly reportCopy?: { readonly region: string; readonly bucket: string };
  /** The policy, for tasks that read it: loaded when first asked for. */
  readonly policy: () => Policy;
  readonly log: JobLog;
  readonly now: () => Date;
  /** What a local run or a test puts in place of what reaches beyond AWS (a database, a URL). */
  readonly standIns: Partial<S>;
}

/** What a scheduled job's wiring reads besides: the account, the vault, the run's deadline. */
export interface JobEnvironment extends TaskEnvironment {
  readonly account: string;
  /** The vault the job records into: read from where it runs when first asked for. */
  readonly vault: () => Vault;
  /** Epoch milliseconds after which the run starts no paced call (it must still record). */
  readonly deadline: number | undefined;
}

/**
 * A Lambda task of a state machine, wired once: the Lambda handler, the local runner, the CLI and
 * the tests all run it through `wire` and `run`. Its `name` is the function's name in the stack
 * and in the ASL file (`Fn::GetAtt: [<name>, Arn]`); its module is `functions/<name-in-kebab>.ts`.
 */
export interface StateMachineTask<D = unknown, R = unknown, S extends object = object> {
  readonly kind: 'task';
  readonly name: string;
  readonly machine: StateMachineName;
  readonly description: string;
  /** Seconds. */
  readonly timeout: number;
  /** Runs in the policy's drill subnets (to reach the restored database). */
  readonly inVpc?: boolean;
  /** Writes a report to the stack's bucket in its region. */
  readonly writesReports?: boolean;
  wire(env: TaskEnvironment<S>): D;
  run(deps: D, event: unknown, env: TaskEnvironment<S>): Promise<R>;
  /** What the state machine receives (default: the result). */
  output?(result: R): unknown;
  /** The task's metrics, from its result. */
  publish?(result: R, metrics: Metrics): void;
}

/**
 * Events that start a job besides its schedule: EventBridge sends those matching `pattern` (in
 * both stacks' regions) to the job's queue, and each batch runs `consume` with the messages'
 * bodies. One batch at a time: a job fed so runs once at a time, schedule and queue together.
 */
export interface QueueFeed<D = unknown, R extends JobResult = JobResult> {
  /** The EventBridge pattern of the events sent to the job's queue. */
  pattern(): Record<string, unknown>;
  /** Messages a batch holds at most, and the seconds Lambda gathers one before it runs. */
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  consume(deps: D, policy: Policy, bodies: readonly unknown[]): Promise<R>;
}

/** A job that runs on a schedule of the policy, wired once like a task. */
export interface ScheduledJob<D = unknown, R extends JobResult = JobResult> {
  readonly kind: 'job';
  readonly name: string;
  readonly description: string;
  /** Seconds an invocation may take (default: the stack's 900). */
  readonly timeout?: number;
  /** Events that start it too, through a queue of its own. */
  readonly queue?: QueueFeed<D, R>;
  /** Where in the policy its schedule is, if the policy schedules it. */
  schedule(policy: Policy): string | undefined;
  /** The stack whose schedule runs it; the other stack keeps it off. */
  runsIn(policy: Policy): 'primary' | 'dr';
  wire(env: JobEnvironment): D;
  run(deps: D, policy: Policy, scheduledTime: Date): Promise<R>;
  publish(result: R, metrics: Metrics): void;
}

/** What every scheduled run returns: what failed, or nothing. */
export interface JobResult {
  readonly failures: readonly JobFailure[];
  /**
   * The failures not told before, for a job that runs often and records what it told (absent:
   * every failure is told).
   */
  readonly newFailures?: readonly JobFailure[];
}

/** A task or job module's definition, as the registry, the stack and the local runner see it. */
export type FunctionDefinition = StateMachineTask<never, never, never> | ScheduledJob<never, never>;

/**
 * The module a function lives in, from its name: `drillPlan` is `drill-plan`. Also its service
 * name in logs and metrics.
 */
export function moduleNameOf(functionName: string): string {
  return functionName.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
