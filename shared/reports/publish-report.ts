import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { clientIn } from '../aws/clients.js';

/** Where drill and failover reports go: the bucket of the region they ran in, and the alert topic. */
export interface ReportSink {
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly bucket: string;
  readonly topicArn: string;
}

/**
 * Stores a report as `<prefix>.json` and `<prefix>.md` and sends the Markdown as one SNS
 * summary with a link to it.
 */
export async function publishReport(
  sink: ReportSink,
  prefix: string,
  report: unknown,
  markdown: string,
  subject: string,
): Promise<{ json: string; markdown: string }> {
  const keys = { json: `${prefix}.json`, markdown: `${prefix}.md` };
  await sink.s3.send(
    new PutObjectCommand({
      Bucket: sink.bucket,
      Key: keys.json,
      Body: `${JSON.stringify(report, null, 2)}\n`,
      ContentType: 'application/json',
    }),
  );
  await sink.s3.send(
    new PutObjectCommand({
      Bucket: sink.bucket,
      Key: keys.markdown,
      Body: markdown,
      ContentType: 'text/markdown',
    }),
  );
  await sink.sns.send(
    new PublishCommand({
      TopicArn: sink.topicArn,
      // SNS subjects: ASCII, at most 100 characters.
      Subject: subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
      Message: `${markdown}\nReport: s3://${sink.bucket}/${keys.markdown}\n`,
    }),
  );
  return keys;
}

/**
 * The sink of a report task: its region's clients, the stack's bucket there, the alert topic.
 * Refuses to start without a bucket (REPORT_BUCKET in Lambda).
 */
export function reportSinkIn(env: {
  readonly region: string;
  readonly reportBucket: string;
  readonly alertTopicArn: string;
}): ReportSink {
  if (!env.reportBucket) {
    throw new Error(
      'environment variable REPORT_BUCKET (the stack’s bucket in this region) is required',
    );
  }
  return {
    s3: clientIn(S3Client, env.region),
    sns: clientIn(SNSClient, env.region),
    bucket: env.reportBucket,
    topicArn: env.alertTopicArn,
  };
}
