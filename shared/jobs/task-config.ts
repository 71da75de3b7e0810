import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';

/**
 * What a state machine task that does not read the policy needs: its region and the alert topic.
 * Keeps the policy schema out of those bundles and their cold starts.
 */
export function readTaskConfig(): { readonly region: string; readonly alertTopicArn: string } {
  return {
    region: getStringFromEnv({ key: 'AWS_REGION' }),
    alertTopicArn: getStringFromEnv({
      key: 'ALERT_TOPIC_ARN',
      errorMessage: 'environment variable ALERT_TOPIC_ARN (the alert topic) is required',
    }),
  };
}
