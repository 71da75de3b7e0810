import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { jobObservability } from '../observability/powertools.js';
import type { Policy } from '../policy/schema.js';
import { moduleNameOf, type StateMachineTask, type TaskEnvironment } from './job-definition.js';

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
export function lambdaEnvironment(log: JobLog, source: PolicySource): TaskEnvironment {
  return {
    region: required('AWS_REGION', 'the function’s region'),
    alertTopicArn: required('ALERT_TOPIC_ARN', 'the alert topic'),
    reportBucket: process.env.REPORT_BUCKET ?? '',
    ...(process.env.REPORT_COPY_BUCKET && process.env.REPORT_COPY_REGION
      ? {
          reportCopy: {
            region: process.env.REPORT_COPY_REGION,
            bucket: process.env.REPORT_COPY_BUCKET,
          },
        }
      : {}),
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
 * A handler built when it is first invoked: importing a function's module (as the CLI and the
 * stack do, for its definition) creates no logger, reads no environment and costs nothing.
 */
export function onFirstCall<E, R>(
  build: () => (event: E, context: Context) => Promise<R>,
): (event: E, context: Context) => Promise<R> {
  let built: ((event: E, context: Context) => Promise<R>) | undefined;
  return (event, context) => {
    built ??= build();
    return built(event, context);
  };
}
