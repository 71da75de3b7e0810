import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { startDrill } from '../../shared/drills/drill-plan.js';
import { reportDrill } from '../../shared/drills/drill-report.js';
import { connectPostgres } from '../../shared/drills/pg-session.js';
import { pollRestore } from '../../shared/drills/restore-poll.js';
import { type Connect, runSmokeChecks } from '../../shared/drills/smoke-checks.js';
import { tearDownDrill } from '../../shared/drills/teardown.js';
import { reportFailover } from '../../shared/failover/failover-report.js';
import { type HttpProbe, httpProbe, verifyHealth } from '../../shared/failover/health.js';
import { startFailover } from '../../shared/failover/preflight.js';
import { checkPromotion } from '../../shared/failover/promotion.js';
import type { Policy } from '../../shared/policy/schema.js';
import { loadDefinition, type StateMachineName } from '../../state-machines/definitions.js';
import { type LambdaTask, type LocalExecution, runLocally } from './local-state-machine.js';
import { sdkIntegration } from './sdk-integration.js';

/** Route 53's API is global and answers in us-east-1. */
export const ROUTE53_REGION = 'us-east-1';

/** What the state machines' Lambda tasks need when they run in this process. */
export interface RecoveryTaskDeps {
  readonly policy: Policy;
  /** The region the state machine runs in: the drill's site, or the DR region for failover. */
  readonly region: string;
  readonly alertTopicArn: string;
  /** The bucket reports go to, in `region`. */
  readonly reportBucket: string;
  /** How smoke checks open a session on the restored database (default: `pg`, as deployed). */
  readonly connect?: Connect;
  /** How health checks look at a URL (default: an HTTP GET, as deployed). */
  readonly probe?: HttpProbe;
  /** Pause between probes of the primary's health (tests pass one that does not wait). */
  readonly pause?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
}

/**
 * The Lambda tasks of both state machines, keyed by their function names in serverless.yml,
 * calling the same code the deployed handlers call.
 */
export function recoveryTasks(deps: RecoveryTaskDeps): Record<string, LambdaTask> {
  const now = deps.now ?? (() => new Date());
  const probe = deps.probe ?? httpProbe;
  const rds = rdsIn(deps.region);
  const route53 = clientIn(Route53Client, ROUTE53_REGION);
  const sink = {
    s3: clientIn(S3Client, deps.region),
    sns: clientIn(SNSClient, deps.region),
    bucket: deps.reportBucket,
    topicArn: deps.alertTopicArn,
  };
  const preflight = {
    rds,
    route53,
    cloudwatch: clientIn(CloudWatchClient, deps.region),
    probe,
    ...(deps.pause ? { pause: deps.pause } : {}),
  };
  return {
    drillPlan: (event) =>
      startDrill({ rds, alertTopicArn: deps.alertTopicArn }, deps.policy, event),
    drillPoll: (event) => pollRestore(rds, event, now()),
    drillSmoke: (event) =>
      runSmokeChecks(
        {
          secrets: clientIn(SecretsManagerClient, deps.region),
          connect: deps.connect ?? connectPostgres,
          now,
        },
        event,
      ),
    drillTeardown: (event) => tearDownDrill(rds, event),
    drillReport: async (event) => (await reportDrill(sink, event, now())).summary,
    failoverPreflight: (event) => startFailover(preflight, deps.policy, event, now()),
    failoverStatus: (event) => checkPromotion(rds, event, now()),
    failoverVerify: (event) => verifyHealth({ route53, probe }, event, now),
    failoverReport: async (event) => (await reportFailover(sink, event, now())).summary,
  };
}

/**
 * Runs a state machine's deployed definition in this process against the AWS the environment
 * points to: its Lambda tasks call Lifeboat's code here, its SDK tasks call AWS through the SDK.
 */
export function runRecoveryLocally(
  machine: StateMachineName,
  input: unknown,
  deps: RecoveryTaskDeps,
  options: {
    readonly waits?: 'real' | 'instant';
    readonly executionName?: string;
    readonly startTime?: Date;
    readonly lambdas?: Record<string, LambdaTask>;
  } = {},
): Promise<LocalExecution> {
  return runLocally(loadDefinition(machine), input, {
    lambdas: { ...recoveryTasks(deps), ...options.lambdas },
    sdk: sdkIntegration((service) => (service === 'route53' ? ROUTE53_REGION : deps.region)),
    ...(options.waits ? { waits: options.waits } : {}),
    ...(options.executionName ? { executionName: options.executionName } : {}),
    ...(options.startTime ? { startTime: options.startTime } : {}),
  });
}
