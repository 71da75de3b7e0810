import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { errorSummary } from '../observability/job-log.js';

/**
 * A Lambda task of a state machine: runs the task and logs its failure before rethrowing it.
 * The error's name becomes the task's error in Step Functions, where Retry and Catch match it.
 */
export function stateMachineTask<R>(logger: Logger, task: (event: unknown) => Promise<R>) {
  return middy(async (event: unknown): Promise<R> => {
    try {
      return await task(event);
    } catch (error) {
      logger.error('task failed', { error: errorSummary(error) });
      throw error;
    }
  }).use(injectLambdaContext(logger));
}
