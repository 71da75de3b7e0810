import { describe, expect, it } from 'vitest';
import { MotoMissingError, startLocalAws } from '../../local/aws/local-aws.js';

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
