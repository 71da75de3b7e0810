import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { publishReport, type ReportSink } from '../../shared/reports/publish-report.js';

const s3 = mockClient(S3Client);
const sns = mockClient(SNSClient);
const sink: ReportSink = {
  s3: new S3Client({ region: 'eu-central-1' }),
  sns: new SNSClient({ region: 'eu-central-1' }),
  bucket: 'lb-p-primary',
  topicArn: 'arn:aws:sns:eu-central-1:123456789012:alerts',
  copy: { s3: new S3Client({ region: 'eu-west-1' }), bucket: 'lb-p-dr' },
};

beforeEach(() => {
  s3.reset();
  sns.reset();
  s3.on(PutObjectCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
});

describe('a report written in the primary region', () => {
  it('is copied to the DR region’s bucket, and the summary says where', async () => {
    // Act
    await publishReport(sink, 'drills/p/d1/report', { ok: true }, '# Drill', 'Lifeboat drill');

    // Assess
    expect(
      s3
        .commandCalls(PutObjectCommand)
        .map((c) => `${c.args[0].input.Bucket}/${c.args[0].input.Key}`),
    ).toEqual([
      'lb-p-primary/drills/p/d1/report.json',
      'lb-p-primary/drills/p/d1/report.md',
      'lb-p-dr/drills/p/d1/report.json',
      'lb-p-dr/drills/p/d1/report.md',
    ]);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      'Copy: s3://lb-p-dr/drills/p/d1/report.md',
    );
  });

  it('stands when its copy fails, and the summary says the copy was not written', async () => {
    // Arrange
    s3.on(PutObjectCommand, { Bucket: 'lb-p-dr' }).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'Access Denied',
      }),
    );

    // Act
    const keys = await publishReport(sink, 'drills/p/d1/report', {}, '# Drill', 'Lifeboat drill');

    // Assess
    expect(keys).toEqual({ json: 'drills/p/d1/report.json', markdown: 'drills/p/d1/report.md' });
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      "The DR region's copy of this report was not written: AccessDenied",
    );
  });
});

describe('a report when the policy names a vault bucket', () => {
  const vaultSink: ReportSink = {
    ...sink,
    vaultCopy: async () => ({
      s3: new S3Client({ region: 'eu-west-1' }),
      bucket: 'lifeboat-vault-v',
      prefix: 'sources/123456789012/',
    }),
  };

  it('is copied to the vault account’s bucket below this account’s prefix', async () => {
    // Act
    await publishReport(vaultSink, 'drills/p/d1/report', {}, '# Drill', 'Lifeboat drill');

    // Assess
    expect(
      s3
        .commandCalls(PutObjectCommand)
        .map((c) => `${c.args[0].input.Bucket}/${c.args[0].input.Key}`)
        .filter((k) => k.startsWith('lifeboat-vault-v/')),
    ).toEqual([
      'lifeboat-vault-v/sources/123456789012/drills/p/d1/report.json',
      'lifeboat-vault-v/sources/123456789012/drills/p/d1/report.md',
    ]);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      'Vault account copy: s3://lifeboat-vault-v/sources/123456789012/drills/p/d1/report.md',
    );
  });

  it('stands when the vault cannot be reached, and the summary says so', async () => {
    // Act
    const keys = await publishReport(
      {
        ...vaultSink,
        vaultCopy: async () => {
          throw Object.assign(new Error('no'), { name: 'VaultRoleError' });
        },
      },
      'drills/p/d1/report',
      {},
      '# Drill',
      'Lifeboat drill',
    );

    // Assess
    expect(keys.json).toBe('drills/p/d1/report.json');
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      "The vault account's copy of this report was not written: VaultRoleError: no",
    );
  });
});
