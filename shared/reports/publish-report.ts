import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { clientIn } from '../aws/clients.js';
import { errorSummary } from '../observability/job-log.js';

/** Where drill and failover reports go: the bucket of the region they ran in, and the alert topic. */
export interface ReportSink {
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly bucket: string;
  readonly topicArn: string;
  /** The DR region's bucket, which gets a copy of each report written in the primary region. */
  readonly copy?: { readonly s3: S3Client; readonly bucket: string };
  /**
   * The vault account's bucket, which gets a copy of every report below this account's prefix:
   * reached when the first report is published.
   */
  readonly vaultCopy?: () => Promise<{
    readonly s3: S3Client;
    readonly bucket: string;
    readonly prefix: string;
  }>;
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
  const store = (s3: S3Client, bucket: string, under = '') =>
    Promise.all([
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${under}${keys.json}`,
          Body: `${JSON.stringify(report, null, 2)}\n`,
          ContentType: 'application/json',
        }),
      ),
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${under}${keys.markdown}`,
          Body: markdown,
          ContentType: 'text/markdown',
        }),
      ),
    ]);
  await store(sink.s3, sink.bucket);
  // A copy that fails is said in the summary: the report itself stands.
  let copied = '';
  if (sink.copy) {
    try {
      await store(sink.copy.s3, sink.copy.bucket);
      copied = `Copy: s3://${sink.copy.bucket}/${keys.markdown}\n`;
    } catch (error) {
      copied = `The DR region's copy of this report was not written: ${errorSummary(error)}\n`;
    }
  }
  if (sink.vaultCopy) {
    try {
      const vault = await sink.vaultCopy();
      await store(vault.s3, vault.bucket, vault.prefix);
      copied += `Vault account copy: s3://${vault.bucket}/${vault.prefix}${keys.markdown}\n`;
    } catch (error) {
      copied += `The vault account's copy of this report was not written: ${errorSummary(error)}\n`;
    }
  }
  await sink.sns.send(
    new PublishCommand({
      TopicArn: sink.topicArn,
      // SNS subjects: ASCII, at most 100 characters.
      Subject: subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
      Message: `${markdown}\nReport: s3://${sink.bucket}/${keys.markdown}\n${copied}`,
    }),
  );
  return keys;
}

/**
 * The sink of a report task: its region's clients, the stack's bucket there, the alert topic.
 * Refuses to start without a bucket (REPORT_BUCKET in Lambda).
 */
export function reportSinkIn(
  env: {
    readonly region: string;
    readonly reportBucket: string;
    readonly alertTopicArn: string;
    readonly reportCopy?: { readonly region: string; readonly bucket: string } | undefined;
  },
  vaultCopy?: ReportSink['vaultCopy'],
): ReportSink {
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
    ...(env.reportCopy
      ? { copy: { s3: clientIn(S3Client, env.reportCopy.region), bucket: env.reportCopy.bucket } }
      : {}),
    ...(vaultCopy ? { vaultCopy } : {}),
  };
}
