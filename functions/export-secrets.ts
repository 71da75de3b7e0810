import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientIn } from '../shared/aws/clients.js';
import type { ScheduledJob } from '../shared/jobs/job-definition.js';
import { scheduledJobHandler } from '../shared/jobs/job-handler.js';
import { recorderFor } from '../shared/jobs/job-wiring.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { drVaultOf } from '../shared/manifest/dr-copy.js';
import { slotOf } from '../shared/naming/slot.js';
import {
  type ExportJobDeps,
  type ExportJobResult,
  runExportJob,
} from '../shared/secrets/export-job.js';

/** Exports the policy's Secrets Manager secrets, encrypted, to the backup bucket. */
export const definition: ScheduledJob<ExportJobDeps, ExportJobResult> = {
  kind: 'job',
  name: 'exportSecrets',
  description: "Exports the policy's Secrets Manager secrets, encrypted, to the backup bucket",
  schedule: (policy) => policy.secrets?.schedule,
  runsIn: () => 'primary',
  wire: (env) => {
    const { primary, dr } = env.policy().regions;
    const vault = env.vault();
    const drVault = drVaultOf(vault, clientIn(S3Client, dr));
    return {
      sm: clientIn(SecretsManagerClient, primary),
      s3: clientIn(S3Client, primary),
      vault,
      recorder: recorderFor(env),
      log: env.log,
      ...(drVault ? { dr: drVault } : {}),
    };
  },
  run: (deps, policy, scheduledTime) => runExportJob(deps, policy, slotOf(scheduledTime)),
  publish: (result, metrics) => {
    metrics.addMetric('SecretsExported', MetricUnit.Count, result.exported);
    metrics.addMetric('SecretExportFailures', MetricUnit.Count, result.failures.length);
  },
};

export const handler = scheduledJobHandler(definition, { policy: packagedPolicy });
