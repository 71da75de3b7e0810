import {
  type FunctionDefinition,
  moduleNameOf,
  type ScheduledJob,
} from '../shared/jobs/job-definition.js';
import { backupBucketName, type StateMachineName } from '../shared/naming/stack.js';
import type { Policy } from '../shared/policy/schema.js';
import { lambdaTasksOf, loadDefinition } from '../state-machines/definitions.js';
import { queueEvent } from './pipeline-resources.js';

type StackRole = 'primary' | 'dr';

/** A function's name in the stack (`drillPlan`) as CloudFormation spells it (`DrillPlan`). */
const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** The IAM role a function runs as, in deploy/iam*.yml: one per function. */
export const roleOf = (name: string) => `${pascal(name)}Role`;

/** The logical id serverless gives a function's AWS::Lambda::Function. */
export const lambdaLogicalIdOf = (name: string) => `${pascal(name)}LambdaFunction`;

/**
 * serverless.yml's `functions`, from the functions' own definitions: a function is added by
 * adding its module under functions/ (and its role), nowhere else.
 *
 * Scheduled jobs set maximumRetryAttempts: 0. The SDK already retries throttling; a run that
 * still fails has alerted, and the next slot runs it again. Lambda's async retries would only
 * repeat the alert. Each job runs in one of the two stacks; the other keeps its schedule off.
 */
export function functionSettings(
  definitions: readonly FunctionDefinition[],
  policy: Policy,
  role: StackRole,
  smokeVpc: unknown,
): Record<string, unknown> {
  const functions: Record<string, unknown> = {};
  for (const definition of [...definitions].sort((a, b) => a.name.localeCompare(b.name))) {
    const common = {
      handler: `functions/${moduleNameOf(definition.name)}.handler`,
      description: definition.description,
      role: roleOf(definition.name),
    };
    if (definition.kind === 'job') {
      const rate = definition.schedule(policy);
      const runsHere = role === definition.runsIn(policy);
      const fed = definition.queue !== undefined;
      functions[definition.name] = {
        ...common,
        maximumRetryAttempts: 0,
        ...(definition.timeout ? { timeout: definition.timeout } : {}),
        // One run at a time, schedule and queue together: what it decides (copies under a cap)
        // counts on no other run deciding at once.
        ...(fed ? { reservedConcurrency: 1 } : {}),
        events: [
          ...(rate === undefined
            ? []
            : [
                {
                  schedule: {
                    method: 'scheduler',
                    rate: [rate],
                    timezone: policy.timeZone,
                    enabled: runsHere,
                    roleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
                    input: { scheduledTime: '<aws.scheduler.scheduled-time>' },
                  },
                },
              ]),
          ...(fed && runsHere ? [queueEvent(definition as ScheduledJob)] : []),
        ],
      };
      continue;
    }
    functions[definition.name] = {
      ...common,
      timeout: definition.timeout,
      ...(definition.inVpc && smokeVpc ? { vpc: smokeVpc } : {}),
      ...(definition.writesReports
        ? {
            environment: {
              REPORT_BUCKET: { Ref: 'BackupBucket' },
              // The primary stack's reports are copied to the DR region's bucket.
              ...(role === 'primary'
                ? {
                    REPORT_COPY_REGION: policy.regions.dr,
                    REPORT_COPY_BUCKET: {
                      'Fn::Sub': backupBucketName(
                        policy.name,
                        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub template
                        '${AWS::AccountId}',
                        policy.regions.dr,
                      ),
                    },
                  }
                : {}),
            },
          }
        : {}),
    };
  }
  return functions;
}

/**
 * What each state machine's role may invoke: exactly the functions its ASL file calls, as
 * `lambda:InvokeFunction` resources.
 */
export function machineTasks(): Record<StateMachineName, unknown[]> {
  const arns = (machine: StateMachineName) =>
    lambdaTasksOf(loadDefinition(machine)).map((name) => ({
      'Fn::GetAtt': [lambdaLogicalIdOf(name), 'Arn'],
    }));
  return {
    'restore-drill': arns('restore-drill'),
    'regional-failover': arns('regional-failover'),
  };
}

/** What EventBridge Scheduler may invoke: every scheduled function of the stack. */
export function scheduledFunctionArns(
  definitions: readonly FunctionDefinition[],
  policy: Policy,
): unknown[] {
  return definitions
    .filter((d) => d.kind === 'job' && d.schedule(policy) !== undefined)
    .map((d) => d.name)
    .sort()
    .map((name) => ({ 'Fn::GetAtt': [lambdaLogicalIdOf(name), 'Arn'] }));
}
