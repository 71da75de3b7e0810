import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  AlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  KMSClient,
  ReplicateKeyCommand,
} from '@aws-sdk/client-kms';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateDBSubnetGroupCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { clientIn } from '../../shared/aws/clients.js';
import { backupBucketName, keyAlias } from '../../shared/naming/stack.js';
import type { Policy } from '../../shared/policy/schema.js';
import { resolveVault, type Vault } from '../../shared/vault/vault.js';

/** A PostgreSQL instance in the local AWS. */
export async function seedInstance(
  rds: RDSClient,
  id: string,
  tags: Record<string, string> = {},
  engine: 'postgres' | 'mysql' | 'mariadb' = 'postgres',
) {
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      Engine: engine,
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

/**
 * A client acting as a role of another account: the local AWS gives an assumed role's calls to
 * the role's account (how the demo and the tests reach the vault account).
 */
export async function clientAs<C>(
  roleArn: string,
  Client: new (config: {
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  }) => C,
  region: string,
): Promise<C> {
  const out = await clientIn(STSClient, region).send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'lifeboat-local' }),
  );
  const c = out.Credentials;
  return new Client({
    region,
    credentials: {
      accessKeyId: c?.AccessKeyId ?? '',
      secretAccessKey: c?.SecretAccessKey ?? '',
      sessionToken: c?.SessionToken ?? '',
    },
  });
}

/** A KMS key made by a role of another account (the vault's key); returns its ARN. */
export async function seedKeyAs(roleArn: string, region: string): Promise<string> {
  const kms = await clientAs(roleArn, KMSClient, region);
  const out = await kms.send(new CreateKeyCommand({ Description: 'lifeboat vault key' }));
  return out.KeyMetadata?.Arn ?? '';
}

/**
 * The vault stack's bucket, made by its account's role: versioned, Object Lock in COMPLIANCE mode
 * for a day, under the vault's key.
 */
export async function seedVaultBucketAs(
  roleArn: string,
  region: string,
  bucket: string,
): Promise<void> {
  await seedLockedBucket(await clientAs(roleArn, S3Client, region), region, bucket, {
    mode: 'COMPLIANCE',
    days: 1,
  });
}

/** A bucket with Object Lock on and a default retention, as the stacks make theirs. */
async function seedLockedBucket(
  s3: S3Client,
  region: string,
  bucket: string,
  lock: { readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly days: number },
): Promise<void> {
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
      ObjectLockEnabledForBucket: true,
    }),
  );
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: lock.mode, Days: lock.days } },
      },
    }),
  );
}

/** An SNS topic in the region; returns its ARN. */
export async function seedTopic(region: string, name = 'lifeboat-alerts'): Promise<string> {
  const out = await clientIn(SNSClient, region).send(new CreateTopicCommand({ Name: name }));
  return out.TopicArn ?? '';
}

/**
 * The vault a deployed stack would hold: the backup bucket (versioned, Object Lock with the
 * policy's default retention), the data keys and the HMAC manifest key with their aliases in both
 * regions. The manifest key is a multi-Region key replicated to the DR region, as deployed. The
 * data keys are one key per region: moto 5.2 truncates multi-Region key ids inside ciphertexts and
 * cannot decrypt them, and Lifeboat encrypts every data key for both regions' keys anyway.
 */
export async function seedVault(policy: Policy, account: string): Promise<Vault> {
  const { primary, dr } = policy.regions;
  const kms = (region: string) => clientIn(KMSClient, region);
  const alias = async (region: string, purpose: 'data' | 'manifest', keyId: string) => {
    try {
      await kms(region).send(
        new CreateAliasCommand({ AliasName: keyAlias(policy.name, purpose), TargetKeyId: keyId }),
      );
    } catch (error) {
      // moto shares a replicated key's aliases with its primary: the alias already names it there.
      if (!(error instanceof AlreadyExistsException)) throw error;
    }
  };

  const dataPrimary = await kms(primary).send(
    new CreateKeyCommand({ Description: 'lifeboat data key' }),
  );
  const dataDr = await kms(dr).send(
    new CreateKeyCommand({ Description: 'lifeboat data key (DR)' }),
  );
  const mac = await kms(primary).send(
    new CreateKeyCommand({
      Description: 'lifeboat manifest key',
      MultiRegion: true,
      KeySpec: 'HMAC_256',
      KeyUsage: 'GENERATE_VERIFY_MAC',
    }),
  );
  const macId = mac.KeyMetadata?.KeyId ?? '';
  await kms(primary).send(new ReplicateKeyCommand({ KeyId: macId, ReplicaRegion: dr }));
  await alias(primary, 'data', dataPrimary.KeyMetadata?.KeyId ?? '');
  await alias(dr, 'data', dataDr.KeyMetadata?.KeyId ?? '');
  await alias(primary, 'manifest', macId);
  await alias(dr, 'manifest', macId);

  // The stack's bucket in each region: Object Lock with the policy's default retention.
  for (const region of [primary, dr]) {
    await seedLockedBucket(
      clientIn(S3Client, region),
      region,
      backupBucketName(policy.name, account, region),
      policy.backupBucket.objectLock,
    );
  }
  return resolveVault(policy, account, kms);
}

/** A secret in the local AWS; returns its ARN. */
export async function seedSecret(
  region: string,
  name: string,
  value: string | Uint8Array,
  tags: Record<string, string> = {},
): Promise<string> {
  const out = await clientIn(SecretsManagerClient, region).send(
    new CreateSecretCommand({
      Name: name,
      ...(typeof value === 'string' ? { SecretString: value } : { SecretBinary: value }),
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return out.ARN ?? '';
}

/**
 * A VPC with two private subnets, a security group and a DB subnet group in the local AWS: the
 * network drill databases are restored into.
 */
export async function seedDbNetwork(
  region: string,
  subnetGroup: string,
): Promise<{ subnetGroup: string; securityGroupId: string; subnetIds: string[] }> {
  const ec2 = clientIn(EC2Client, region);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const subnetIds: string[] = [];
  for (const [i, zone] of ['a', 'b'].entries()) {
    const subnet = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: `10.42.${i}.0/24`,
        AvailabilityZone: `${region}${zone}`,
      }),
    );
    subnetIds.push(subnet.Subnet?.SubnetId ?? '');
  }
  const group = await ec2.send(
    new CreateSecurityGroupCommand({
      VpcId: vpcId,
      GroupName: 'lifeboat-drills',
      Description: 'drill databases',
    }),
  );
  await clientIn(RDSClient, region).send(
    new CreateDBSubnetGroupCommand({
      DBSubnetGroupName: subnetGroup,
      DBSubnetGroupDescription: 'private subnets for drill databases',
      SubnetIds: subnetIds,
    }),
  );
  return { subnetGroup, securityGroupId: group.GroupId ?? '', subnetIds };
}
