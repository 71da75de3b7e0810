import type { FunctionDefinition, ScheduledJob } from '../shared/jobs/job-definition.js';
import type { Policy } from '../shared/policy/schema.js';

/**
 * What feeds a job its events besides its schedule (`queue` in its definition): in the stack the
 * job runs in, its queue (encrypted by SQS, the messages only hints kept a day) and a rule on
 * the region's default bus sending the events there; in the other stack, a rule forwarding the
 * same events to the running stack's default bus. The function takes a batch at a time.
 * Extended here when another job is fed by events.
 */

type StackRole = 'primary' | 'dr';

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** The logical id of a fed job's queue. */
export const queueLogicalIdOf = (name: string) => `${pascal(name)}Queue`;

/** The jobs fed by a queue. */
export function fedJobs(definitions: readonly FunctionDefinition[]): ScheduledJob[] {
  return definitions.filter(
    (d): d is ScheduledJob<never, never> => d.kind === 'job' && d.queue !== undefined,
  ) as ScheduledJob[];
}

/**
 * serverless.yml's event source for a fed job, in the stack it runs in: batches as its feed
 * says (size, and the seconds gathered), one batch at a time.
 */
export function queueEvent(job: ScheduledJob): Record<string, unknown> {
  return {
    sqs: {
      arn: { 'Fn::GetAtt': [queueLogicalIdOf(job.name), 'Arn'] },
      batchSize: job.queue?.batchSize,
      maximumBatchingWindow: job.queue?.batchingWindowSeconds,
      functionResponseType: 'ReportBatchItemFailures',
    },
  };
}

/** The queues, rules and the forwarding role of the fed jobs, for one stack. */
export function pipelineResources(
  definitions: readonly FunctionDefinition[],
  policy: Policy,
  role: StackRole,
): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const job of fedJobs(definitions)) {
    const id = pascal(job.name);
    const pattern = job.queue?.pattern() ?? {};
    const runsHere = job.runsIn(policy) === role;
    if (runsHere) {
      // The messages say when to look; the sweep covers any lost. SQS redelivers one a batch
      // did not take after 6 timeouts of the function, as Lambda advises.
      resources[queueLogicalIdOf(job.name)] = {
        Type: 'AWS::SQS::Queue',
        Properties: {
          SqsManagedSseEnabled: true,
          MessageRetentionPeriod: 86_400,
          VisibilityTimeout: 6 * (job.timeout ?? 900),
        },
      };
      resources[`${id}EventRule`] = {
        Type: 'AWS::Events::Rule',
        Properties: {
          Description: `RDS's snapshot events, to ${job.name}'s queue`,
          EventPattern: pattern,
          Targets: [{ Id: 'queue', Arn: { 'Fn::GetAtt': [queueLogicalIdOf(job.name), 'Arn'] } }],
        },
      };
      resources[`${id}QueuePolicy`] = {
        Type: 'AWS::SQS::QueuePolicy',
        Properties: {
          Queues: [{ Ref: queueLogicalIdOf(job.name) }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'OnlyTheRuleSends',
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: { 'Fn::GetAtt': [queueLogicalIdOf(job.name), 'Arn'] },
                Condition: {
                  ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [`${id}EventRule`, 'Arn'] } },
                },
              },
            ],
          },
        },
      };
      resources[`${id}QueueReading`] = {
        Type: 'AWS::IAM::RolePolicy',
        Properties: {
          RoleName: { Ref: `${id}Role` },
          PolicyName: 'take-events-from-its-queue',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'TakeBatchesFromItsQueue',
                Effect: 'Allow',
                // Lambda's event source mapping polls with the function's role.
                Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
                Resource: { 'Fn::GetAtt': [queueLogicalIdOf(job.name), 'Arn'] },
              },
            ],
          },
        },
      };
      continue;
    }
    const to = policy.regions[job.runsIn(policy)];
    const bus = {
      'Fn::Sub': `arn:\${AWS::Partition}:events:${to}:\${AWS::AccountId}:event-bus/default`,
    };
    resources[`${id}EventForwardRole`] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `Lets EventBridge forward RDS's snapshot events to ${to}, where ${job.name} runs`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'forward-snapshot-events',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: bus }],
            },
          },
        ],
      },
    };
    resources[`${id}EventForwardRule`] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `RDS's snapshot events in this region, to ${to}, where ${job.name} runs`,
        EventPattern: pattern,
        Targets: [
          {
            Id: 'bus',
            Arn: bus,
            RoleArn: { 'Fn::GetAtt': [`${id}EventForwardRole`, 'Arn'] },
          },
        ],
      },
    };
  }
  return resources;
}
