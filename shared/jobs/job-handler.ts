import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { JobFailedError, type JobFailure, publishFailureAlert } from '../alerts/failure-alert.js';
import { clientIn } from '../aws/clients.js';
import { invocationDeadline } from '../aws/rate-limiter.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { JOB_SUCCEEDED_METRIC } from '../observability/metric-names.js';
import { jobObservability } from '../observability/powertools.js';
import { InvalidEventError } from '../validation/parse-event.js';
import { vaultFromEnv } from '../vault/vault.js';
import {
  type JobEnvironment,
  type JobResult,
  moduleNameOf,
  type QueueFeed,
  type ScheduledJob,
} from './job-definition.js';
import { parseScheduledEvent } from './scheduled-event.js';
import { lambdaEnvironment, onFirstCall, type PolicySource } from './task-handler.js';

/**
 * The Lambda handler of a scheduled job: parses the Scheduler event (refusing it when malformed,
 * in the future or older than the policy's lookback), runs the job against the account and
 * vault the function is deployed with, publishes its metrics, and settles it: when anything
 * failed, one alert naming every failure, and the invocation fails so its alarm fires.
 */
export function scheduledJobHandler<D, R extends JobResult>(
  job: ScheduledJob<D, R> & { readonly queue: QueueFeed<D, R> },
  source: Required<PolicySource>,
): (event: unknown, context: Context) => Promise<R | QueueBatchResponse>;
export function scheduledJobHandler<D, R extends JobResult>(
  job: ScheduledJob<D, R>,
  source: Required<PolicySource>,
): (event: unknown, context: Context) => Promise<R>;
/**
 * A job fed by a queue too (`queue`) takes each SQS batch as one run of `consume`, and answers
 * with the messages to hand back: none, since each only says when to look.
 */
export function scheduledJobHandler<D, R extends JobResult>(
  job: ScheduledJob<D, R>,
  source: Required<PolicySource>,
) {
  return onFirstCall(() => buildScheduledJobHandler(job, source));
}

function buildScheduledJobHandler<D, R extends JobResult>(
  job: ScheduledJob<D, R>,
  source: Required<PolicySource>,
) {
  const service = moduleNameOf(job.name);
  const { logger, metrics } = jobObservability(service);
  const run = async (event: unknown, context: Context): Promise<R | QueueBatchResponse> => {
    const policy = source.policy();
    const base = lambdaEnvironment(logger, source);
    const sns = clientIn(SNSClient, base.region);
    const environment = (): JobEnvironment => ({
      ...base,
      account: accountOf(context),
      vault: vaultFromEnv,
      deadline: invocationDeadline(context),
    });
    const settled = (result: R): R => {
      job.publish(result, metrics);
      // The heartbeat: a run with nothing failed (a failed one alerts and throws instead).
      if (result.failures.length === 0)
        metrics.addMetric(JOB_SUCCEEDED_METRIC, MetricUnit.Count, 1);
      return result;
    };
    const batch = job.queue ? queueBatchOf(event) : undefined;
    if (job.queue && batch) {
      const feed = job.queue;
      // The messages only say when to look: every one is taken, whatever the pass found, and
      // what failed is told (once) and fails the heartbeat instead of the batch.
      await runScheduledJob(service, { sns, ...base }, async () =>
        settled(await feed.consume(job.wire(environment()), policy, batch)),
      ).catch((error: unknown) => {
        if (!(error instanceof JobFailedError)) throw error;
      });
      return { batchItemFailures: [] };
    }
    const scheduledTime = parseScheduledEvent(event, policy.verification.lookback);
    return runScheduledJob(service, { sns, ...base }, async () =>
      settled(await job.run(job.wire(environment()), policy, scheduledTime)),
    );
  };
  return middy(run).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

/** What a function fed by SQS answers: the messages to hand back (none: each was taken). */
export interface QueueBatchResponse {
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
}

/** The bodies of an SQS batch, or undefined when the event is no SQS batch. */
function queueBatchOf(event: unknown): unknown[] | undefined {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records) || records.length === 0) return undefined;
  if (!records.every((r) => (r as { eventSource?: string })?.eventSource === 'aws:sqs')) {
    return undefined;
  }
  return records.map((r) => (r as { body?: unknown }).body);
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
    const untold = result.newFailures ?? result.failures;
    if (untold.length > 0) await alert(job, alerting, untold);
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
