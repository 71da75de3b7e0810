import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { JobFailedError, type JobFailure, publishFailureAlert } from '../alerts/failure-alert.js';
import { clientIn } from '../aws/clients.js';
import { invocationDeadline } from '../aws/rate-limiter.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { jobObservability } from '../observability/powertools.js';
import type { Policy } from '../policy/schema.js';
import { InvalidEventError } from '../validation/parse-event.js';
import { vaultFromEnv } from '../vault/vault.js';
import {
  type JobEnvironment,
  type JobResult,
  moduleNameOf,
  type ScheduledJob,
  type StateMachineTask,
  type TaskEnvironment,
} from './job-definition.js';
import { parseScheduledEvent } from './scheduled-event.js';

/** Where a Lambda function finds its policy; functions that never read one are given none. */
export interface PolicySource {
  readonly policy?: () => Policy;
}

const required = (key: string, what: string) =>
  getStringFromEnv({ key, errorMessage: `environment variable ${key} (${what}) is required` });

function noPolicy(): Policy {
  throw new Error('this function reads no policy');
}

/** The environment a function reads in Lambda: its region, the stack's topic and bucket. */
function lambdaEnvironment(log: JobLog, source: PolicySource): TaskEnvironment {
  return {
    region: required('AWS_REGION', 'the function’s region'),
    alertTopicArn: required('ALERT_TOPIC_ARN', 'the alert topic'),
    reportBucket: process.env.REPORT_BUCKET ?? '',
    policy: source.policy ?? noPolicy,
    log,
    now: () => new Date(),
    standIns: {},
  };
}

/**
 * The Lambda handler of a state machine task: wires it from the function's environment when it
 * is first invoked, runs it, and logs a failure before rethrowing it. The error's name becomes
 * the task's error in Step Functions, where Retry and Catch match it.
 */
export function taskHandler<D, R>(task: StateMachineTask<D, R>, source: PolicySource = {}) {
  return onFirstCall(() => buildTaskHandler(task, source));
}

function buildTaskHandler<D, R>(task: StateMachineTask<D, R>, source: PolicySource) {
  const { logger, metrics } = jobObservability(moduleNameOf(task.name));
  let wired: { env: TaskEnvironment; deps: D } | undefined;
  const handler = middy(async (event: unknown): Promise<unknown> => {
    if (!wired) {
      const env = lambdaEnvironment(logger, source);
      wired = { env, deps: task.wire(env) };
    }
    try {
      const result = await task.run(wired.deps, event, wired.env);
      task.publish?.(result, metrics);
      return task.output ? task.output(result) : result;
    } catch (error) {
      logger.error('task failed', { error: errorSummary(error) });
      throw error;
    }
  }).use(injectLambdaContext(logger));
  return task.publish ? handler.use(logMetrics(metrics)) : handler;
}

/**
 * The Lambda handler of a scheduled job: parses the Scheduler event (refusing it when malformed,
 * in the future or older than the policy's lookback), runs the job against the account and
 * vault the function is deployed with, publishes its metrics, and settles it: when anything
 * failed, one alert naming every failure, and the invocation fails so its alarm fires.
 */
export function scheduledJobHandler<D, R extends JobResult>(
  job: ScheduledJob<D, R>,
  source: Required<PolicySource>,
) {
  return onFirstCall(() => buildScheduledJobHandler(job, source));
}

/**
 * A handler built when it is first invoked: importing a function's module (as the CLI and the
 * stack do, for its definition) creates no logger, reads no environment and costs nothing.
 */
function onFirstCall<E, R>(
  build: () => (event: E, context: Context) => Promise<R>,
): (event: E, context: Context) => Promise<R> {
  let built: ((event: E, context: Context) => Promise<R>) | undefined;
  return (event, context) => {
    built ??= build();
    return built(event, context);
  };
}

function buildScheduledJobHandler<D, R extends JobResult>(
  job: ScheduledJob<D, R>,
  source: Required<PolicySource>,
) {
  const service = moduleNameOf(job.name);
  const { logger, metrics } = jobObservability(service);
  const run = async (event: unknown, context: Context): Promise<R> => {
    const policy = source.policy();
    const base = lambdaEnvironment(logger, source);
    const scheduledTime = parseScheduledEvent(event, policy.verification.lookback);
    const sns = clientIn(SNSClient, base.region);
    return runScheduledJob(service, { sns, ...base }, async () => {
      const env: JobEnvironment = {
        ...base,
        account: accountOf(context),
        vault: vaultFromEnv,
        deadline: invocationDeadline(context),
      };
      const result = await job.run(job.wire(env), policy, scheduledTime);
      job.publish(result, metrics);
      return result;
    });
  };
  return middy(run).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

/** The account a function runs in, from its own ARN: no STS call needed. */
export function accountOf(context: Pick<Context, 'invokedFunctionArn'>): string {
  return context.invokedFunctionArn.split(':')[4] ?? '';
}

/**
 * Runs a scheduled job and settles it: when anything failed, or the run itself broke, sends one
 * alert naming every failure and throws, so the invocation fails and the function's error alarm
 * fires. A malformed event changes nothing and is only rejected.
 */
export async function runScheduledJob<R extends JobResult>(
  job: string,
  alerting: {
    readonly sns: SNSClient;
    readonly alertTopicArn: string;
    readonly region: string;
    readonly log: JobLog;
  },
  run: () => Promise<R>,
): Promise<R> {
  let result: R;
  try {
    result = await run();
  } catch (error) {
    if (error instanceof InvalidEventError) throw error;
    await alert(job, alerting, [{ subject: 'the run', error: errorSummary(error) }]);
    throw error;
  }
  if (result.failures.length > 0) {
    await alert(job, alerting, result.failures);
    throw new JobFailedError(job, result.failures);
  }
  return result;
}

async function alert(
  job: string,
  {
    sns,
    alertTopicArn,
    region,
    log,
  }: { sns: SNSClient; alertTopicArn: string; region: string; log: JobLog },
  failures: readonly JobFailure[],
): Promise<void> {
  try {
    await publishFailureAlert(sns, alertTopicArn, job, region, failures);
  } catch (error) {
    log.error('alert not sent', { error: errorSummary(error) });
  }
}
