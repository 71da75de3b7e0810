import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { clientIn } from '../../shared/aws/clients.js';

/** A PostgreSQL instance in the local AWS. */
export async function seedInstance(rds: RDSClient, id: string, tags: Record<string, string> = {}) {
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      Engine: 'postgres',
      DBInstanceClass: 'db.t4g.micro',
      AllocatedStorage: 20,
      MasterUsername: 'app',
      MasterUserPassword: 'not-a-real-password-1',
      StorageEncrypted: true,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
}

/** An Aurora PostgreSQL cluster in the local AWS. */
export async function seedCluster(rds: RDSClient, id: string) {
  await rds.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: id,
      Engine: 'aurora-postgresql',
      MasterUsername: 'app',
      MasterUserPassword: 'not-a-real-password-1',
      StorageEncrypted: true,
    }),
  );
}

/** A symmetric KMS key in the region; returns its ARN. */
export async function seedKey(region: string, description = 'lifeboat test key'): Promise<string> {
  const out = await clientIn(KMSClient, region).send(
    new CreateKeyCommand({ Description: description }),
  );
  return out.KeyMetadata?.Arn ?? '';
}

/** An SNS topic in the region; returns its ARN. */
export async function seedTopic(region: string, name = 'lifeboat-alerts'): Promise<string> {
  const out = await clientIn(SNSClient, region).send(new CreateTopicCommand({ Name: name }));
  return out.TopicArn ?? '';
}
