import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { rdsLimiter } from '../../shared/aws/rate-limiter.js';
import { readLambdaJobConfig, runScheduledJob } from '../../shared/jobs/lambda-job.js';
import { parseScheduledEvent } from '../../shared/jobs/scheduled-event.js';
import { RESTORE_POINT_AGE_METRIC } from '../../shared/observability/metric-names.js';
import { jobObservability } from '../../shared/observability/powertools.js';
import { vaultFromEnv } from '../../shared/vault/vault.js';
import {
  runVerificationJob,
  type VerificationJobResult,
} from '../../shared/verification/verification-job.js';

const config = readLambdaJobConfig();
const vault = vaultFromEnv();
const { policy } = config;
const { logger, metrics } = jobObservability('verify-manifest');
const primary = rdsIn(policy.regions.primary);
const dr = rdsIn(policy.regions.dr);
const s3 = clientIn(S3Client, policy.regions.primary);
const kms = clientIn(KMSClient, policy.regions.primary);
const sns = clientIn(SNSClient, config.region);

const verifyManifest = async (event: unknown): Promise<VerificationJobResult> => {
  const scheduledTime = parseScheduledEvent(event, policy.verification.lookback);
  return runScheduledJob('verify-manifest', { sns, config, log: logger }, async () => {
    const result = await runVerificationJob(
      {
        s3,
        kms,
        site: 'primary',
        primary,
        dr,
        vault,
        limiter: rdsLimiter(policy.rdsRequestsPerSecond),
        log: logger,
      },
      policy,
      scheduledTime,
    );
    metrics.addMetric('RunsVerified', MetricUnit.Count, result.runs.length);
    metrics.addMetric('VerificationFailures', MetricUnit.Count, result.failures.length);
    for (const point of result.restorePoints) {
      const single = metrics.singleMetric();
      single.addDimensions({ Region: point.region, Target: point.target });
      single.addMetric(RESTORE_POINT_AGE_METRIC, MetricUnit.Seconds, point.ageSeconds);
    }
    return result;
  });
};

export const handler = middy(verifyManifest)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
