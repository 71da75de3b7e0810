import { resolve } from 'node:path';
import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { loadPackagedPolicy } from '../policy/parse-policy.js';
import type { Policy } from '../policy/schema.js';

let packaged: Policy | undefined;

/**
 * The policy packaged with a function (LIFEBOAT_POLICY_PATH, JSON written at package time),
 * validated by the same schema, once per cold start. Only the functions that read the policy
 * import this, which keeps the schema out of the other bundles.
 */
export function packagedPolicy(): Policy {
  if (!packaged) {
    const path = getStringFromEnv({
      key: 'LIFEBOAT_POLICY_PATH',
      errorMessage:
        'environment variable LIFEBOAT_POLICY_PATH (the packaged policy file) is required',
    });
    packaged = loadPackagedPolicy(resolve(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), path));
  }
  return packaged;
}
