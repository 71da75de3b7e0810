import { resolve } from 'node:path';
import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import type { SNSClient } from '@aws-sdk/client-sns';
import { JobFailedError, type JobFailure, publishFailureAlert } from '../alerts/failure-alert.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { loadPackagedPolicy } from '../policy/parse-policy.js';
import type { Policy } from '../policy/schema.js';

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

/**
 * Ends a run: when anything failed, sends one alert naming every failure and throws, so the
 * invocation fails and the function's error alarm fires.
 */
export async function settleRun(
  sns: SNSClient,
  config: Pick<LambdaJobConfig, 'alertTopicArn' | 'region'>,
  job: string,
  failures: readonly JobFailure[],
  log: JobLog,
): Promise<void> {
  if (failures.length === 0) return;
  try {
    await publishFailureAlert(sns, config.alertTopicArn, job, config.region, failures);
  } catch (error) {
    log.error('alert not sent', { error: errorSummary(error) });
  }
  throw new JobFailedError(job, failures);
}
