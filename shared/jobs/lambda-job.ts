import { resolve } from 'node:path';
import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { JobFailedError, type JobFailure, publishFailureAlert } from '../alerts/failure-alert.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { loadPackagedPolicy } from '../policy/parse-policy.js';
import type { Policy } from '../policy/schema.js';
import { InvalidEventError } from '../validation/parse-event.js';

/** What every scheduled Lambda job reads once, at cold start. */
export interface LambdaJobConfig {
  readonly policy: Policy;
  readonly alertTopicArn: string;
  readonly region: string;
}

/**
 * Reads the job's settings and validates the policy packaged with the function. A missing
 * variable or a bad policy fails the cold start, naming what is wrong.
 */
export function readLambdaJobConfig(): LambdaJobConfig {
  const policyPath = getStringFromEnv({
    key: 'LIFEBOAT_POLICY_PATH',
    errorMessage:
      'environment variable LIFEBOAT_POLICY_PATH (the packaged policy file) is required',
  });
  const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  return {
    policy: loadPackagedPolicy(resolve(root, policyPath)),
    alertTopicArn: getStringFromEnv({
      key: 'ALERT_TOPIC_ARN',
      errorMessage: 'environment variable ALERT_TOPIC_ARN (the alert topic) is required',
    }),
    region: getStringFromEnv({ key: 'AWS_REGION' }),
  };
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
export async function runScheduledJob<R extends { readonly failures: readonly JobFailure[] }>(
  job: string,
  alerting: {
    sns: SNSClient;
    config: Pick<LambdaJobConfig, 'alertTopicArn' | 'region'>;
    log: JobLog;
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
    config,
    log,
  }: { sns: SNSClient; config: Pick<LambdaJobConfig, 'alertTopicArn' | 'region'>; log: JobLog },
  failures: readonly JobFailure[],
): Promise<void> {
  try {
    await publishFailureAlert(sns, config.alertTopicArn, job, config.region, failures);
  } catch (error) {
    log.error('alert not sent', { error: errorSummary(error) });
  }
}
