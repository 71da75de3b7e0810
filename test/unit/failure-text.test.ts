import { KMSClient, KMSServiceException, NotFoundException } from '@aws-sdk/client-kms';
import { RDSServiceException } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { failureText } from '../../cli/failure-text.js';
import { resolveVault, StackNotDeployedError } from '../../shared/vault/vault.js';

// What the command says when AWS stops it: words a person can act on, never the SDK's.

const env = { AWS_REGION: 'eu-central-1' };
const aws = (name: string, message: string) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

describe('failures in Lifeboat’s words', () => {
  it.each([
    [
      'no credentials',
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      'no usable AWS credentials (none were found): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or sign in again (aws sso login)',
      3,
    ],
    [
      'an expired session',
      aws('ExpiredTokenException', 'The security token included in the request is expired'),
      'no usable AWS credentials (the session has expired): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or sign in again (aws sso login)',
      3,
    ],
    [
      'no network',
      Object.assign(new Error('getaddrinfo ENOTFOUND rds.eu-central-1.amazonaws.com'), {
        code: 'ENOTFOUND',
      }),
      'cannot reach AWS in eu-central-1 (ENOTFOUND): check the network, AWS_REGION and AWS_ENDPOINT_URL',
      3,
    ],
    [
      'a network error wrapped by the SDK',
      Object.assign(new Error('socket hang up'), {
        name: 'TimeoutError',
        cause: { code: 'ETIMEDOUT' },
      }),
      'cannot reach AWS in eu-central-1 (TimeoutError): check the network, AWS_REGION and AWS_ENDPOINT_URL',
      3,
    ],
    [
      'access denied, naming the role and the action',
      new RDSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
        message:
          'User: arn:aws:sts::123456789012:assumed-role/ops/alice is not authorized to perform: rds:DescribeDBSnapshots on resource: arn:aws:rds:eu-central-1:123456789012:snapshot:* because no identity-based policy allows the rds:DescribeDBSnapshots action',
      }),
      'access denied: arn:aws:sts::123456789012:assumed-role/ops/alice may not rds:DescribeDBSnapshots on arn:aws:rds:eu-central-1:123456789012:snapshot:*; grant it to that role or user, or use credentials that have it',
      3,
    ],
    [
      'a bucket that does not exist',
      aws('NoSuchBucket', 'The specified bucket does not exist'),
      'the backup bucket does not exist: deploy the stack for this policy (npx sls deploy), or name the bucket with --bucket',
      2,
    ],
    [
      'any other answer of AWS, by its code and first line only',
      aws('ThrottlingException', 'Rate exceeded\n    at some/stack/frame.js:1:1'),
      'could not run: AWS answered ThrottlingException: Rate exceeded',
      3,
    ],
    [
      'any other error of its own in its words, never its class name',
      Object.assign(new Error('the replica orders-db-dr is not in eu-west-1\n at x.js:1:1'), {
        name: 'ReplicaMissingError',
      }),
      'could not run: the replica orders-db-dr is not in eu-west-1',
      3,
    ],
    [
      'that a drill has no restore point, as a failure',
      Object.assign(new Error('orders-db has no verified restore point'), {
        name: 'NoRestorePointError',
      }),
      'orders-db has no verified restore point',
      1,
    ],
  ])('says %s', (_, error, message, code) => {
    // Act
    const failure = failureText(error, env);

    // Assess
    expect(failure).toEqual({ message, code });
    expect(failure.message).not.toMatch(/\bat \S+:\d+:\d+/);
  });

  it('names the stack, the region and the command when the stack is not deployed', async () => {
    // Prepare
    const kms = mockClient(KMSClient);
    kms
      .onAnyCommand()
      .rejects(new NotFoundException({ message: 'Alias arn:... is not found.', $metadata: {} }));

    // Act
    const error = await resolveVault(
      { name: 'acme-prod', regions: { primary: 'eu-central-1', dr: 'eu-west-1' } },
      '123456789012',
      () => new KMSClient({ region: 'eu-central-1' }),
    ).catch((e: Error) => e);
    const failure = failureText(error, env);
    kms.restore();

    // Assess
    expect(error).toBeInstanceOf(StackNotDeployedError);
    expect(failure.code).toBe(2);
    expect(failure.message).toMatch(
      /^the Lifeboat stack of policy acme-prod is not deployed in eu-(central|west)-1 \(there is no KMS key alias\/lifeboat-acme-prod-(data|manifest) in this account\): deploy it there first \(npx sls deploy --region eu-(central|west)-1/,
    );
  });

  it('passes other KMS failures through as could-not-run', () => {
    // Act
    const failure = failureText(
      new KMSServiceException({
        name: 'KMSInternalException',
        $fault: 'server',
        $metadata: {},
        message: 'internal',
      }),
      env,
    );

    // Assess
    expect(failure).toEqual({
      message: 'could not run: AWS answered KMSInternalException: internal',
      code: 3,
    });
  });
});
