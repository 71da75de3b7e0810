import { describe, expect, it } from 'vitest';
import { AWS_PACE, MotoMissingError, startLocalAws } from '../../local/aws/local-aws.js';

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
    const act = startLocalAws({ python: '/nonexistent/python3' });

    // Assess
    await expect(act).rejects.toBeInstanceOf(MotoMissingError);
    await expect(startLocalAws({ python: '/nonexistent/python3' })).rejects.toThrow(
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
      await aws.clock.advance(AWS_PACE.snapshot);
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

describe('the local AWS keeps AWS’s time', () => {
  const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

  async function world() {
    const rds = await import('@aws-sdk/client-rds');
    const sqs = await import('@aws-sdk/client-sqs');
    const events = await import('@aws-sdk/client-eventbridge');
    const aws = await startLocalAws();
    const config = (region: string) => ({ region, endpoint: aws.endpoint, credentials });
    const primary = new rds.RDSClient(config('eu-central-1'));
    const dr = new rds.RDSClient(config('eu-west-1'));
    await primary.send(
      new rds.CreateDBInstanceCommand({
        DBInstanceIdentifier: 'db',
        Engine: 'postgres',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: 20,
        MasterUsername: 'u',
        MasterUserPassword: 'password-1',
      }),
    );
    // Where a rule on the default bus sends RDS's snapshot events, as a stack would.
    const queue = async (region: string) => {
      const client = new sqs.SQSClient(config(region));
      const url =
        (await client.send(new sqs.CreateQueueCommand({ QueueName: 'rds-events' }))).QueueUrl ?? '';
      const arn = `arn:aws:sqs:${region}:123456789012:rds-events`;
      const bus = new events.EventBridgeClient(config(region));
      await bus.send(
        new events.PutRuleCommand({
          Name: 'snapshots',
          EventPattern: JSON.stringify({
            source: ['aws.rds'],
            'detail-type': ['RDS DB Snapshot Event', 'RDS DB Cluster Snapshot Event'],
          }),
        }),
      );
      await bus.send(
        new events.PutTargetsCommand({ Rule: 'snapshots', Targets: [{ Id: 'q', Arn: arn }] }),
      );
      return async () => {
        const out = await client.send(
          new sqs.ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
        );
        return (out.Messages ?? []).map(
          (m) =>
            JSON.parse(m.Body ?? '{}') as {
              'detail-type': string;
              detail: { SourceIdentifier: string; EventID: string; Message: string };
            },
        );
      };
    };
    return { rds, aws, primary, dr, queue };
  }

  it('keeps a manual snapshot creating for its time, refusing to copy or share it, then tells EventBridge', async () => {
    // Prepare
    const { rds, aws, primary, queue } = await world();
    try {
      const received = await queue('eu-central-1');

      // Act
      await primary.send(
        new rds.CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: 's1' }),
      );
      const status = async () =>
        (await primary.send(new rds.DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 's1' })))
          .DBSnapshots?.[0]?.Status;
      const before = await status();
      const share = await primary
        .send(
          new rds.ModifyDBSnapshotAttributeCommand({
            DBSnapshotIdentifier: 's1',
            AttributeName: 'restore',
            ValuesToAdd: ['222233334444'],
          }),
        )
        .catch((e: Error) => e.name);
      const copy = await primary
        .send(
          new rds.CopyDBSnapshotCommand({
            SourceDBSnapshotIdentifier: 's1',
            TargetDBSnapshotIdentifier: 's1-copy',
          }),
        )
        .catch((e: Error) => e.name);
      const early = await received();
      const clock = await aws.clock.read();
      await aws.clock.advance(AWS_PACE.snapshot);
      const after = await status();
      const late = await received();

      // Assess
      expect(before).toBe('creating');
      expect(share).toBe('InvalidDBSnapshotStateFault');
      expect(copy).toBe('InvalidDBSnapshotStateFault');
      expect(early).toEqual([]);
      expect(clock.pending.map((p) => [p.kind, p.id, p.status])).toEqual([
        ['snapshot', 's1', 'creating'],
      ]);
      expect(after).toBe('available');
      expect(
        late.map((e) => [e['detail-type'], e.detail.SourceIdentifier, e.detail.EventID]),
      ).toEqual([['RDS DB Snapshot Event', 's1', 'RDS-EVENT-0042']]);
    } finally {
      await aws.stop();
    }
  });

  it('copies across regions for the copy’s time, and says so in the destination region', async () => {
    // Prepare
    const { rds, aws, primary, dr, queue } = await world();
    try {
      const received = await queue('eu-west-1');
      await primary.send(
        new rds.CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: 's1' }),
      );
      await aws.clock.advance(AWS_PACE.snapshot);

      // Act
      await dr.send(
        new rds.CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: 'arn:aws:rds:eu-central-1:123456789012:snapshot:s1',
          TargetDBSnapshotIdentifier: 's1',
        }),
      );
      const status = async () =>
        (await dr.send(new rds.DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 's1' })))
          .DBSnapshots?.[0]?.Status;
      const copying = await status();
      const view = await aws.clock.advanceToNext();
      const copied = await status();

      // Assess
      expect(copying).toBe('creating');
      expect(view.pending).toEqual([]);
      expect(copied).toBe('available');
      expect((await received()).map((e) => [e.detail.EventID, e.detail.Message])).toEqual([
        [
          'RDS-EVENT-0060',
          'Finished the copy of snapshot arn:aws:rds:eu-central-1:123456789012:snapshot:s1 from region eu-central-1.',
        ],
      ]);
    } finally {
      await aws.stop();
    }
  });

  it('refuses a copy past RDS’s cap of 20 in flight into a region, and takes one again when a copy is done', async () => {
    // Prepare
    const { rds, aws, primary, dr } = await world();
    try {
      for (let i = 0; i < 21; i += 1) {
        await primary.send(
          new rds.CreateDBSnapshotCommand({
            DBInstanceIdentifier: 'db',
            DBSnapshotIdentifier: `s${i}`,
          }),
        );
      }
      await aws.clock.advance(AWS_PACE.snapshot);
      const copy = (i: number) =>
        dr.send(
          new rds.CopyDBSnapshotCommand({
            SourceDBSnapshotIdentifier: `arn:aws:rds:eu-central-1:123456789012:snapshot:s${i}`,
            TargetDBSnapshotIdentifier: `s${i}`,
          }),
        );

      // Act
      for (let i = 0; i < 20; i += 1) await copy(i);
      const refused = await copy(20).catch((e: Error) => e);
      await aws.clock.advanceToNext();
      const later = await copy(20);

      // Assess
      expect(refused).toBeInstanceOf(Error);
      expect((refused as Error).name).toBe('SnapshotQuotaExceededFault');
      expect((refused as Error).message).toContain('20 are already in progress to eu-west-1');
      expect(later.DBSnapshot?.Status).toBe('creating');
    } finally {
      await aws.stop();
    }
  });

  it('delivers RDS’s events best effort: dropped, duplicated or late, as asked', async () => {
    // Prepare
    const { rds, aws, primary, queue } = await world();
    try {
      const received = await queue('eu-central-1');
      const snapshot = (id: string) =>
        primary.send(
          new rds.CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: id }),
        );

      // Act
      await aws.setDelivery({ dropNext: 1 });
      await snapshot('dropped');
      await aws.clock.advance(AWS_PACE.snapshot);
      const afterDrop = await received();
      await aws.setDelivery({ duplicateNext: 1 });
      await snapshot('twice');
      await aws.clock.advance(AWS_PACE.snapshot);
      const afterDuplicate = [...(await received()), ...(await received())];
      await aws.setDelivery({ delaySeconds: 60 });
      await snapshot('late');
      await aws.clock.advance(AWS_PACE.snapshot);
      const beforeLate = await received();
      const held = await aws.clock.read();
      await aws.clock.advance(60);
      const afterLate = await received();

      // Assess
      expect(afterDrop).toEqual([]);
      expect(afterDuplicate.map((e) => e.detail.SourceIdentifier)).toEqual(['twice', 'twice']);
      expect(beforeLate).toEqual([]);
      expect(held.lateEvents).toBe(1);
      expect(afterLate.map((e) => e.detail.SourceIdentifier)).toEqual(['late']);
      expect(
        (await aws.events()).map((e) => [e.detail.SourceIdentifier, e.delivered, e.late]),
      ).toEqual([
        ['dropped', 0, false],
        ['twice', 2, false],
        ['late', 1, true],
      ]);
    } finally {
      await aws.stop();
    }
  });

  it('restores and promotes for their time, and refuses to restore a snapshot not yet available', async () => {
    // Prepare
    const { rds, aws, primary } = await world();
    try {
      await primary.send(
        new rds.CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: 's1' }),
      );
      const restore = () =>
        primary.send(
          new rds.RestoreDBInstanceFromDBSnapshotCommand({
            DBInstanceIdentifier: 'restored',
            DBSnapshotIdentifier: 's1',
          }),
        );
      const status = async (id: string) =>
        (await primary.send(new rds.DescribeDBInstancesCommand({ DBInstanceIdentifier: id })))
          .DBInstances?.[0]?.DBInstanceStatus;

      // Act
      const early = await restore().catch((e: Error) => e.name);
      await aws.clock.advance(AWS_PACE.snapshot);
      await restore();
      const restoring = await status('restored');
      await aws.clock.advance(AWS_PACE.restore);
      const restored = await status('restored');
      await primary.send(
        new rds.CreateDBInstanceReadReplicaCommand({
          DBInstanceIdentifier: 'replica',
          SourceDBInstanceIdentifier: 'db',
        }),
      );
      await primary.send(new rds.PromoteReadReplicaCommand({ DBInstanceIdentifier: 'replica' }));
      const promoting = await status('replica');
      await aws.clock.advance(AWS_PACE.promote);
      const promoted = await status('replica');

      // Assess
      expect(early).toBe('InvalidDBSnapshotStateFault');
      expect([restoring, restored]).toEqual(['creating', 'available']);
      expect([promoting, promoted]).toEqual(['modifying', 'available']);
    } finally {
      await aws.stop();
    }
  });

  it('is instant only for a caller that says why', async () => {
    // Act
    const act = startLocalAws({ timing: { instant: ' ' } });

    // Assess
    await expect(act).rejects.toThrow('an instant local AWS needs a reason');
  });
});
