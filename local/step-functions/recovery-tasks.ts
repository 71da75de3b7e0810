import { loadTask } from '../../functions/registry.js';
import { ROUTE53_REGION } from '../../shared/aws/clients.js';
import type { Connect } from '../../shared/drills/database-session.js';
import type { HttpProbe } from '../../shared/failover/health.js';
import type { TaskEnvironment } from '../../shared/jobs/job-definition.js';
import type { StateMachineName } from '../../shared/naming/stack.js';
import { type JobLog, silentLog } from '../../shared/observability/job-log.js';
import type { Policy } from '../../shared/policy/schema.js';
import { lambdaTasksOf, loadDefinition } from '../../state-machines/definitions.js';
import {
  type LambdaTask,
  type LocalExecution,
  type LocalWaits,
  runLocally,
} from './local-state-machine.js';
import { sdkIntegration } from './sdk-integration.js';

/** What the state machines' Lambda tasks need when they run in this process. */
export interface RecoveryTaskDeps {
  readonly policy: Policy;
  /** The region the state machine runs in: the drill's site, or the DR region for failover. */
  readonly region: string;
  readonly alertTopicArn: string;
  /** The bucket reports go to, in `region`. */
  readonly reportBucket: string;
  /** The DR region's bucket, which gets a copy of each report (running in the primary). */
  readonly reportCopy?: { readonly region: string; readonly bucket: string };
  /** How smoke checks open a session on the restored database (default: `pg`, as deployed). */
  readonly connect?: Connect;
  /** How health checks look at a URL (default: an HTTP GET, as deployed). */
  readonly probe?: HttpProbe;
  /** Pause between probes of the primary's health (tests pass one that does not wait). */
  readonly pause?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
  readonly log?: JobLog;
}

/**
 * The Lambda tasks a state machine's ASL file calls, by their function names, each wired and run
 * through its definition under functions/ exactly as its Lambda handler does.
 */
export async function recoveryTasks(
  machine: StateMachineName,
  deps: RecoveryTaskDeps,
): Promise<Record<string, LambdaTask>> {
  const env: TaskEnvironment<Record<string, unknown>> = {
    region: deps.region,
    alertTopicArn: deps.alertTopicArn,
    reportBucket: deps.reportBucket,
    ...(deps.reportCopy ? { reportCopy: deps.reportCopy } : {}),
    policy: () => deps.policy,
    log: deps.log ?? silentLog,
    now: deps.now ?? (() => new Date()),
    standIns: {
      ...(deps.connect ? { connect: deps.connect } : {}),
      ...(deps.probe ? { probe: deps.probe } : {}),
      ...(deps.pause ? { pause: deps.pause } : {}),
    },
  };
  const tasks: Record<string, LambdaTask> = {};
  for (const name of lambdaTasksOf(loadDefinition(machine))) {
    const task = await loadTask(name);
    const wired = task.wire(env);
    tasks[name] = async (event) => {
      const result = await task.run(wired, event, env);
      return task.output ? task.output(result) : result;
    };
  }
  return tasks;
}

/**
 * Runs a state machine's deployed definition in this process against the AWS the environment
 * points to: its Lambda tasks call Lifeboat's code here, its SDK tasks call AWS through the SDK.
 */
export async function runRecoveryLocally(
  machine: StateMachineName,
  input: unknown,
  deps: RecoveryTaskDeps,
  options: {
    readonly waits?: LocalWaits;
    readonly executionName?: string;
    readonly startTime?: Date;
    readonly lambdas?: Record<string, LambdaTask>;
    readonly onStateEntered?: (state: string) => void;
  } = {},
): Promise<LocalExecution> {
  return runLocally(loadDefinition(machine), input, {
    lambdas: { ...(await recoveryTasks(machine, deps)), ...options.lambdas },
    sdk: sdkIntegration((service) => (service === 'route53' ? ROUTE53_REGION : deps.region)),
    ...(options.waits ? { waits: options.waits } : {}),
    ...(options.executionName ? { executionName: options.executionName } : {}),
    ...(options.startTime ? { startTime: options.startTime } : {}),
    ...(options.onStateEntered ? { onStateEntered: options.onStateEntered } : {}),
  });
}
