import { describe, expect, it } from 'vitest';
import { MotoMissingError, startLocalAws } from '../../local/aws/local-aws.js';

/** A client config acting in another account: the local AWS gives an assumed role's calls to it. */
async function asRoleOf(
  config: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  },
  roleArn: string,
) {
  const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
  const assumed = await new STSClient(config).send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'test' }),
  );
  return {
    ...config,
    credentials: {
      accessKeyId: assumed.Credentials?.AccessKeyId ?? '',
      secretAccessKey: assumed.Credentials?.SecretAccessKey ?? '',
      sessionToken: assumed.Credentials?.SessionToken ?? '',
    },
  };
}

describe('startLocalAws', () => {
  it('says how to install moto when moto_server is missing', async () => {
    // Act
    const act = startLocalAws('/nonexistent/python3');

    // Assess
    await expect(act).rejects.toBeInstanceOf(MotoMissingError);
    await expect(startLocalAws('/nonexistent/python3')).rejects.toThrow(
      'pip install "moto[server]"',
    );
  });
});

describe('the local AWS', () => {
  it('behaves as RDS does when a read replica is promoted: it names no source any more', async () => {
    // Prepare
    const {
      RDSClient,
      CreateDBInstanceCommand,
      CreateDBInstanceReadReplicaCommand,
      PromoteReadReplicaCommand,
      DescribeDBInstancesCommand,
    } = await import('@aws-sdk/client-rds');
    const aws = await startLocalAws();
    const config = {
      endpoint: aws.endpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    };
    const primary = new RDSClient({ region: 'eu-central-1', ...config });
    const dr = new RDSClient({ region: 'eu-west-1', ...config });
    try {
      await primary.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: 'db',
          Engine: 'postgres',
          DBInstanceClass: 'db.t4g.micro',
          AllocatedStorage: 20,
          MasterUsername: 'u',
          MasterUserPassword: 'password-1',
        }),
      );
      await dr.send(
        new CreateDBInstanceReadReplicaCommand({
          DBInstanceIdentifier: 'db-dr',
          SourceDBInstanceIdentifier: 'arn:aws:rds:eu-central-1:123456789012:db:db',
        }),
      );
      const before = (
        await dr.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db-dr' }))
      ).DBInstances?.[0];

      // Act
      await dr.send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: 'db-dr' }));

      // Assess
      const after = (
        await dr.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db-dr' }))
      ).DBInstances?.[0];
      const source = (
        await primary.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db' }))
      ).DBInstances?.[0];
      expect(before?.ReadReplicaSourceDBInstanceIdentifier).toBe(
        'arn:aws:rds:eu-central-1:123456789012:db:db',
      );
      expect(after?.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
      expect(source?.ReadReplicaDBInstanceIdentifiers ?? []).toEqual([]);
    } finally {
      await aws.stop();
    }
  });
});

describe('the local AWS, across accounts', () => {
  it('lets an account copy and restore a snapshot by ARN only while its owner shares it, as RDS does', async () => {
    // Prepare: account 123456789012 (plain credentials) and 222233334444 (an assumed role)
    const { RDSClient, CreateDBInstanceCommand, CreateDBSnapshotCommand, CopyDBSnapshotCommand } =
      await import('@aws-sdk/client-rds');
    const { ModifyDBSnapshotAttributeCommand, RestoreDBInstanceFromDBSnapshotCommand } =
      await import('@aws-sdk/client-rds');
    const aws = await startLocalAws();
    const config = {
      region: 'eu-west-1',
      endpoint: aws.endpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    };
    try {
      const owner = new RDSClient(config);
      const other = new RDSClient(await asRoleOf(config, 'arn:aws:iam::222233334444:role/vault'));
      await owner.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: 'db',
          Engine: 'postgres',
          DBInstanceClass: 'db.t4g.micro',
          AllocatedStorage: 20,
          MasterUsername: 'u',
          MasterUserPassword: 'password-1',
        }),
      );
      await owner.send(
        new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: 's1' }),
      );
      const copy = (id: string) =>
        other.send(
          new CopyDBSnapshotCommand({
            SourceDBSnapshotIdentifier: 'arn:aws:rds:eu-west-1:123456789012:snapshot:s1',
            TargetDBSnapshotIdentifier: id,
          }),
        );

      // Act
      const unshared = await copy('c1').catch((e: Error) => e.name);
      await owner.send(
        new ModifyDBSnapshotAttributeCommand({
          DBSnapshotIdentifier: 's1',
          AttributeName: 'restore',
          ValuesToAdd: ['222233334444'],
        }),
      );
      const shared = await copy('c2');
      const restored = await other.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: 'restored',
          DBSnapshotIdentifier: 'arn:aws:rds:eu-west-1:123456789012:snapshot:s1',
        }),
      );

      // Assess
      expect(unshared).toBe('DBSnapshotNotFoundFault');
      expect(shared.DBSnapshot?.DBSnapshotArn).toBe(
        'arn:aws:rds:eu-west-1:222233334444:snapshot:c2',
      );
      expect(restored.DBInstance?.DBInstanceArn).toBe(
        'arn:aws:rds:eu-west-1:222233334444:db:restored',
      );
    } finally {
      await aws.stop();
    }
  });
});

describe('the local AWS, across accounts with KMS', () => {
  it('encrypts with another account’s key by ARN, which only that account decrypts', async () => {
    // Prepare
    const { KMSClient, CreateKeyCommand, EncryptCommand, DecryptCommand } = await import(
      '@aws-sdk/client-kms'
    );
    const aws = await startLocalAws();
    const config = {
      region: 'eu-west-1',
      endpoint: aws.endpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    };
    try {
      const other = new KMSClient(await asRoleOf(config, 'arn:aws:iam::222233334444:role/v'));
      const key = (await other.send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? '';

      // Act
      const sealed = await new KMSClient(config).send(
        new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('data key') }),
      );
      const opened = await other.send(
        new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, KeyId: key }),
      );
      const byName = await new KMSClient(config)
        .send(new EncryptCommand({ KeyId: key.split('/')[1], Plaintext: Buffer.from('x') }))
        .catch((error: Error) => error.name);

      // Assess
      expect(sealed.KeyId).toBe(key);
      expect(Buffer.from(opened.Plaintext ?? []).toString()).toBe('data key');
      expect(byName).toBe('NotFoundException');
    } finally {
      await aws.stop();
    }
  });
});
