import { afterAll, beforeAll } from 'vitest';
import { type LocalAws, type LocalAwsOptions, startLocalAws } from '../../local/aws/local-aws.js';

/**
 * Starts a moto server for this test file and points the SDK at it through AWS_ENDPOINT_URL,
 * before any client is created. Stopped after the file's tests. It keeps AWS's time (AWS_PACE)
 * unless the options say otherwise, and why.
 */
export function useLocalAws(options: LocalAwsOptions = {}): { readonly aws: LocalAws } {
  const holder = {} as { aws: LocalAws };
  beforeAll(async () => {
    holder.aws = await startLocalAws(options);
    process.env.AWS_ENDPOINT_URL = holder.aws.endpoint;
  });
  afterAll(async () => {
    await holder.aws?.stop();
  });
  return holder;
}
