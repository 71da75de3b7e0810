import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DrCopyError, ensureDrCopies } from '../../shared/manifest/dr-copy.js';

// The DR region's copy when S3 fails: what moto cannot be made to do, scripted with
// aws-sdk-client-mock, the primary's bucket and the DR region's on one mocked client.

const s3 = mockClient(S3Client);
const primary = { s3: new S3Client({ region: 'eu-central-1' }), bucket: 'lb-p-primary' };
const dr = { s3: new S3Client({ region: 'eu-west-1' }), bucket: 'lb-p-dr', kmsKeyId: 'arn:dr-key' };
const KEY = 'manifests/p/secrets-202611280100.json';
// What the SDK's streaming body offers for reading it whole.
const body = () => ({
  transformToByteArray: async () => new Uint8Array(Buffer.from('{"signed":true}\n')),
});
const notFound = () => new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } });

beforeEach(() => {
  s3.reset();
  s3.on(HeadObjectCommand, { Bucket: dr.bucket }).rejects(notFound());
  s3.on(ListObjectVersionsCommand, { Bucket: primary.bucket }).resolves({
    Versions: [
      { Key: KEY, VersionId: 'v2' },
      { Key: KEY, VersionId: 'v1' },
    ],
  });
  s3.on(GetObjectCommand, { Bucket: primary.bucket }).resolves({ Body: body() as never });
  s3.on(PutObjectCommand, { Bucket: dr.bucket }).resolves({});
});

describe('copies to the DR region', () => {
  it('copies the first version the primary stored, under the DR key, with its SHA-256', async () => {
    // Act
    const { copied } = await ensureDrCopies(primary, dr, [KEY], { firstVersion: true });

    // Assess
    expect(copied).toEqual([KEY]);
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toMatchObject({ VersionId: 'v1' });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: dr.bucket,
      Key: KEY,
      SSEKMSKeyId: dr.kmsKeyId,
      ServerSideEncryption: 'aws:kms',
      ChecksumAlgorithm: 'SHA256',
    });
  });

  it('leaves a copy the DR region holds alone', async () => {
    s3.on(HeadObjectCommand, { Bucket: dr.bucket }).resolves({});
    const { copied } = await ensureDrCopies(primary, dr, [KEY], { firstVersion: true });
    expect(copied).toEqual([]);
    expect(s3.commandCalls(PutObjectCommand)).toEqual([]);
  });

  it('names the key and the reason when the DR bucket refuses the write', async () => {
    // Arrange
    s3.on(PutObjectCommand, { Bucket: dr.bucket }).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'Access Denied',
      }),
    );

    // Act
    const act = ensureDrCopies(primary, dr, [KEY], { firstVersion: true });

    // Assess
    await expect(act).rejects.toThrow(DrCopyError);
    await expect(act).rejects.toThrow(
      `the DR region's copy of ${KEY} was not written (Access Denied)`,
    );
  });

  it('says so when the DR region cannot be asked (a HEAD that fails other than 404)', async () => {
    s3.on(HeadObjectCommand, { Bucket: dr.bucket }).rejects(
      new S3ServiceException({
        name: 'ServiceUnavailable',
        $fault: 'server',
        $metadata: { httpStatusCode: 503 },
        message: 'Service Unavailable',
      }),
    );
    await expect(ensureDrCopies(primary, dr, [KEY])).rejects.toThrow(DrCopyError);
    expect(s3.commandCalls(PutObjectCommand)).toEqual([]);
  });

  it('refuses to copy what the primary no longer holds readably', async () => {
    s3.on(ListObjectVersionsCommand, { Bucket: primary.bucket }).resolves({ Versions: [] });
    await expect(ensureDrCopies(primary, dr, [KEY], { firstVersion: true })).rejects.toThrow(
      'the primary holds no readable first version',
    );
  });
});
