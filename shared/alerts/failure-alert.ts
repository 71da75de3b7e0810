import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

/** One thing a job could not do: what (a target, a snapshot, an artifact) and the error. */
export interface JobFailure {
  readonly subject: string;
  readonly error: string;
}

/** A job run in which something failed. Thrown so the invocation fails and its alarm fires. */
export class JobFailedError extends Error {
  readonly failures: readonly JobFailure[];

  constructor(job: string, failures: readonly JobFailure[]) {
    super(
      `${job}: ${failures.length} failed: ${failures
        .slice(0, 10)
        .map((f) => f.subject)
        .join(', ')}${failures.length > 10 ? ', ...' : ''}`,
    );
    this.name = 'JobFailedError';
    this.failures = failures;
  }
}

/** The alert text: one line per failure, naming it and its error. */
export function failureAlertText(job: string, region: string, failures: readonly JobFailure[]) {
  // SNS subjects: ASCII, at most 100 characters.
  const subject = `Lifeboat ${job} in ${region}: ${failures.length} failed`.slice(0, 100);
  const message = [
    `Lifeboat ${job} in ${region}: ${failures.length} failed.`,
    '',
    ...failures.map((f) => `- ${f.subject}: ${f.error}`),
  ].join('\n');
  return { subject, message };
}

/** Sends one SNS message naming every failure of a run. */
export async function publishFailureAlert(
  sns: SNSClient,
  topicArn: string,
  job: string,
  region: string,
  failures: readonly JobFailure[],
): Promise<void> {
  const { subject, message } = failureAlertText(job, region, failures);
  await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }));
}
