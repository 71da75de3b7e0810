import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { clientIn } from '../shared/aws/clients.js';
import type { ScheduledJob } from '../shared/jobs/job-definition.js';
import { scheduledJobHandler } from '../shared/jobs/job-handler.js';
import { policyRds, recorderFor, vaultAccountFor } from '../shared/jobs/job-wiring.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { errorSummary } from '../shared/observability/job-log.js';
import {
  type PassResult,
  type PipelineDeps,
  runPipelinePass,
} from '../shared/snapshots/pipeline-pass.js';
import { settledSlotsIn } from '../shared/snapshots/settled-slots.js';
import {
  parseSnapshotEvent,
  type SnapshotEvent,
  snapshotEventPattern,
} from '../shared/snapshots/snapshot-events.js';

type Deps = PipelineDeps & { readonly now: () => Date };

/**
 * The pipeline: each snapshot's DR copy, vault copy and the end of its share, started the moment
 * the step before is done. RDS's snapshot events start a pass (through the function's queue);
 * the sweep starts one every few minutes for the events that come late or never.
 */
export const definition: ScheduledJob<Deps, PassResult> = {
  kind: 'job',
  name: 'advanceSnapshots',
  description:
    "Starts each snapshot's DR copy, vault copy and end of share as soon as the step before is done",
  timeout: 300,
  schedule: (policy) => policy.snapshots.sweep,
  runsIn: () => 'primary',
  wire: (env) => {
    const vault = vaultAccountFor(env, 'lifeboat-advance-snapshots');
    const policy = env.policy();
    const stack = env.vault();
    return {
      ...policyRds(env),
      kmsIn: (region) => clientIn(KMSClient, region),
      recorder: recorderFor(env, vault),
      settled: settledSlotsIn(
        clientIn(S3Client, policy.regions.primary),
        stack.bucket,
        policy.name,
        stack.dataKeys.primary,
      ),
      log: env.log,
      now: env.now,
      ...(vault ? { vault } : {}),
    };
  },
  run: (deps, policy) => runPipelinePass(deps, policy, { events: [], sweep: true }, deps.now()),
  queue: {
    pattern: snapshotEventPattern,
    // A wave of copies finishing together is one pass, not one each.
    batchSize: 100,
    batchingWindowSeconds: 20,
    async consume(deps, policy, bodies) {
      const events: SnapshotEvent[] = [];
      const refused: { subject: string; error: string }[] = [];
      for (const body of bodies) {
        try {
          events.push(parseSnapshotEvent(body));
        } catch (error) {
          refused.push({
            subject: 'a message on the pipeline’s queue',
            error: errorSummary(error),
          });
        }
      }
      const pass = await runPipelinePass(deps, policy, { events, sweep: false }, deps.now());
      return {
        ...pass,
        failures: [...refused, ...pass.failures],
        newFailures: [...refused, ...pass.newFailures],
      };
    },
  },
  publish: (result, metrics) => {
    const count = (list: readonly { outcome: string }[], outcome: string) =>
      list.filter((o) => o.outcome === outcome).length;
    metrics.addMetric('SlotsInPipeline', MetricUnit.Count, result.open.length);
    metrics.addMetric('CopiesStarted', MetricUnit.Count, count(result.copies, 'started'));
    metrics.addMetric('VaultCopiesStarted', MetricUnit.Count, count(result.vault, 'started'));
    metrics.addMetric('CopiesWaiting', MetricUnit.Count, result.waiting.length);
    metrics.addMetric(
      'OldestCopyWaiting',
      MetricUnit.Seconds,
      Math.max(0, ...result.waiting.map((w) => w.waitingSeconds)),
    );
    metrics.addMetric('PipelineFailures', MetricUnit.Count, result.failures.length);
  },
};

export const handler = scheduledJobHandler(definition, { policy: packagedPolicy });
