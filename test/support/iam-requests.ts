import type { RecordedCall } from './aws-calls.js';

/** What IAM authorizes for one call: the action, the resource, and the condition keys it sees. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string | string[]>;
  /** The call it comes from, for messages. */
  readonly call: string;
}

/** What the world looked like around the calls: the account, tags of resources, objects' keys. */
export interface CallWorld {
  readonly account: string;
  /** Tags a resource carried when the call was made (deletes are authorized on them). */
  tagsOf(arn: string): Record<string, string>;
  /** How an object was stored: its KMS key, and whether it has its own encryption context. */
  encryptionOf(bucket: string, key: string): { kmsKeyId: string; ownContext: boolean } | undefined;
  /** An ARN as the template knows it (moto's DR data key has an id of its own). */
  canonical(arn: string): string;
  /**
   * The key the alert topic of a region is encrypted with: SNS encrypts each message under it on
   * the publisher's behalf.
   */
  alertKeyOf?(region: string): string;
}

type Input = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const tags = (input: Input) =>
  (Array.isArray(input.Tags) ? input.Tags : []) as { Key?: string; Value?: string }[];

function tagContext(list: { Key?: string; Value?: string }[]): Record<string, string | string[]> {
  if (list.length === 0) return {};
  return {
    'aws:TagKeys': list.map((t) => t.Key ?? ''),
    ...Object.fromEntries(list.map((t) => [`aws:RequestTag/${t.Key}`, t.Value ?? ''])),
  };
}

// RDS also gives each resource type's tags a condition key of its own (rds:db-tag/<key>...).
const RDS_TAG_KEY: Record<string, string> = {
  db: 'rds:db-tag',
  cluster: 'rds:cluster-tag',
  snapshot: 'rds:snapshot-tag',
  'cluster-snapshot': 'rds:cluster-snapshot-tag',
};

function resourceTags(world: CallWorld, arn: string): Record<string, string> {
  const rdsKey = arn.startsWith('arn:aws:rds:') ? RDS_TAG_KEY[arn.split(':')[5] ?? ''] : undefined;
  return Object.fromEntries(
    Object.entries(world.tagsOf(arn)).flatMap(([k, v]) => [
      [`aws:ResourceTag/${k}`, v],
      ...(rdsKey ? [[`${rdsKey}/${k}`, v]] : []),
    ]),
  );
}

/**
 * The IAM requests one recorded call makes, as AWS authorizes them: the SDK operation's action
 * on its resource ARN, the tagging a create with tags implies, and the KMS calls S3 makes on the
 * caller's behalf for SSE-KMS objects.
 */
export function iamRequestsOf(call: RecordedCall, world: CallWorld): IamRequest[] {
  const { input, region } = call;
  const name = `${call.service}.${call.operation}`;
  const req = (
    action: string,
    resource: string,
    context: Record<string, string | string[]> = {},
  ): IamRequest => ({ action, resource: world.canonical(resource), context, call: name });
  const rds = (type: string, id: string) => `arn:aws:rds:${region}:${world.account}:${type}:${id}`;
  const rdsArn = (type: string, idOrArn: unknown) =>
    str(idOrArn).startsWith('arn:') ? str(idOrArn) : rds(type, str(idOrArn) || '*');
  const s3Object = (bucket: unknown, key: unknown) => `arn:aws:s3:::${str(bucket)}/${str(key)}`;
  const viaS3 = { 'kms:ViaService': `s3.${region}.amazonaws.com` };

  switch (call.service) {
    case 'RDS': {
      const tagged = (arn: string) =>
        tags(input).length > 0 ? [req('rds:AddTagsToResource', arn, tagContext(tags(input)))] : [];
      switch (call.operation) {
        case 'DescribeDBInstances':
          return [req('rds:DescribeDBInstances', rdsArn('db', input.DBInstanceIdentifier))];
        case 'DescribeDBClusters':
          return [req('rds:DescribeDBClusters', rdsArn('cluster', input.DBClusterIdentifier))];
        case 'DescribeDBSnapshots':
          return [req('rds:DescribeDBSnapshots', rdsArn('snapshot', input.DBSnapshotIdentifier))];
        case 'DescribeDBClusterSnapshots':
          return [
            req(
              'rds:DescribeDBClusterSnapshots',
              rdsArn('cluster-snapshot', input.DBClusterSnapshotIdentifier),
            ),
          ];
        case 'CreateDBSnapshot': {
          const snapshot = rds('snapshot', str(input.DBSnapshotIdentifier));
          return [
            req('rds:CreateDBSnapshot', rds('db', str(input.DBInstanceIdentifier))),
            req('rds:CreateDBSnapshot', snapshot, tagContext(tags(input))),
            ...tagged(snapshot),
          ];
        }
        case 'CreateDBClusterSnapshot': {
          const snapshot = rds('cluster-snapshot', str(input.DBClusterSnapshotIdentifier));
          return [
            req('rds:CreateDBClusterSnapshot', rds('cluster', str(input.DBClusterIdentifier))),
            req('rds:CreateDBClusterSnapshot', snapshot, tagContext(tags(input))),
            ...tagged(snapshot),
          ];
        }
        case 'CopyDBSnapshot': {
          const target = rds('snapshot', str(input.TargetDBSnapshotIdentifier));
          return [
            req('rds:CopyDBSnapshot', rdsArn('snapshot', input.SourceDBSnapshotIdentifier)),
            req('rds:CopyDBSnapshot', target, tagContext(tags(input))),
            ...tagged(target),
          ];
        }
        case 'CopyDBClusterSnapshot': {
          const target = rds('cluster-snapshot', str(input.TargetDBClusterSnapshotIdentifier));
          return [
            req(
              'rds:CopyDBClusterSnapshot',
              rdsArn('cluster-snapshot', input.SourceDBClusterSnapshotIdentifier),
            ),
            req('rds:CopyDBClusterSnapshot', target, tagContext(tags(input))),
            ...tagged(target),
          ];
        }
        case 'DeleteDBSnapshot': {
          const arn = rds('snapshot', str(input.DBSnapshotIdentifier));
          return [req('rds:DeleteDBSnapshot', arn, resourceTags(world, arn))];
        }
        case 'DeleteDBClusterSnapshot': {
          const arn = rds('cluster-snapshot', str(input.DBClusterSnapshotIdentifier));
          return [req('rds:DeleteDBClusterSnapshot', arn, resourceTags(world, arn))];
        }
        case 'DeleteDBInstance': {
          const arn = rds('db', str(input.DBInstanceIdentifier));
          return [req('rds:DeleteDBInstance', arn, resourceTags(world, arn))];
        }
        case 'DeleteDBCluster': {
          const arn = rds('cluster', str(input.DBClusterIdentifier));
          return [req('rds:DeleteDBCluster', arn, resourceTags(world, arn))];
        }
        case 'AddTagsToResource':
          return [
            req('rds:AddTagsToResource', str(input.ResourceName), {
              ...tagContext(tags(input)),
              ...resourceTags(world, str(input.ResourceName)),
            }),
          ];
        case 'RestoreDBInstanceFromDBSnapshot': {
          const db = rds('db', str(input.DBInstanceIdentifier));
          return [
            req('rds:RestoreDBInstanceFromDBSnapshot', db, tagContext(tags(input))),
            req(
              'rds:RestoreDBInstanceFromDBSnapshot',
              rdsArn('snapshot', input.DBSnapshotIdentifier),
            ),
            ...(input.DBSubnetGroupName
              ? [
                  req(
                    'rds:RestoreDBInstanceFromDBSnapshot',
                    rds('subgrp', str(input.DBSubnetGroupName)),
                  ),
                ]
              : []),
            ...tagged(db),
          ];
        }
        case 'RestoreDBClusterFromSnapshot': {
          const cluster = rds('cluster', str(input.DBClusterIdentifier));
          return [
            req('rds:RestoreDBClusterFromSnapshot', cluster, tagContext(tags(input))),
            req(
              'rds:RestoreDBClusterFromSnapshot',
              rdsArn('cluster-snapshot', input.SnapshotIdentifier),
            ),
            ...(input.DBSubnetGroupName
              ? [
                  req(
                    'rds:RestoreDBClusterFromSnapshot',
                    rds('subgrp', str(input.DBSubnetGroupName)),
                  ),
                ]
              : []),
            ...tagged(cluster),
          ];
        }
        case 'RestoreDBInstanceToPointInTime': {
          const db = rds('db', str(input.TargetDBInstanceIdentifier));
          const source = input.SourceDBInstanceAutomatedBackupsArn
            ? str(input.SourceDBInstanceAutomatedBackupsArn)
            : rds('db', str(input.SourceDBInstanceIdentifier));
          return [
            req('rds:RestoreDBInstanceToPointInTime', db, tagContext(tags(input))),
            req('rds:RestoreDBInstanceToPointInTime', source),
            ...(input.DBSubnetGroupName
              ? [
                  req(
                    'rds:RestoreDBInstanceToPointInTime',
                    rds('subgrp', str(input.DBSubnetGroupName)),
                  ),
                ]
              : []),
            ...tagged(db),
          ];
        }
        case 'RestoreDBClusterToPointInTime': {
          const cluster = rds('cluster', str(input.DBClusterIdentifier));
          return [
            req('rds:RestoreDBClusterToPointInTime', cluster, tagContext(tags(input))),
            req(
              'rds:RestoreDBClusterToPointInTime',
              rds('cluster', str(input.SourceDBClusterIdentifier)),
            ),
            ...(input.DBSubnetGroupName
              ? [
                  req(
                    'rds:RestoreDBClusterToPointInTime',
                    rds('subgrp', str(input.DBSubnetGroupName)),
                  ),
                ]
              : []),
            ...tagged(cluster),
          ];
        }
        case 'CreateDBInstance': {
          const db = rds('db', str(input.DBInstanceIdentifier));
          return [
            req('rds:CreateDBInstance', db, tagContext(tags(input))),
            ...(input.DBClusterIdentifier
              ? [req('rds:CreateDBInstance', rds('cluster', str(input.DBClusterIdentifier)))]
              : []),
            ...tagged(db),
          ];
        }
        case 'DescribeDBInstanceAutomatedBackups':
          return [
            req(
              'rds:DescribeDBInstanceAutomatedBackups',
              `arn:aws:rds:${region}:${world.account}:auto-backup:*`,
            ),
          ];
        case 'ModifyDBInstance':
          return [req('rds:ModifyDBInstance', rds('db', str(input.DBInstanceIdentifier)))];
        case 'ModifyDBCluster':
          return [req('rds:ModifyDBCluster', rds('cluster', str(input.DBClusterIdentifier)))];
        case 'PromoteReadReplica':
          return [req('rds:PromoteReadReplica', rds('db', str(input.DBInstanceIdentifier)))];
        case 'DescribeGlobalClusters':
          return [
            req(
              'rds:DescribeGlobalClusters',
              `arn:aws:rds::${world.account}:global-cluster:${str(input.GlobalClusterIdentifier) || '*'}`,
            ),
          ];
        case 'ModifyDBSnapshotAttribute':
          return [
            req('rds:ModifyDBSnapshotAttribute', rdsArn('snapshot', input.DBSnapshotIdentifier)),
          ];
        case 'ModifyDBClusterSnapshotAttribute':
          return [
            req(
              'rds:ModifyDBClusterSnapshotAttribute',
              rdsArn('cluster-snapshot', input.DBClusterSnapshotIdentifier),
            ),
          ];
        case 'RemoveTagsFromResource':
          return [
            req('rds:RemoveTagsFromResource', str(input.ResourceName), {
              'aws:TagKeys': (input.TagKeys as string[]) ?? [],
            }),
          ];
        default:
          return [req(`rds:${call.operation}`, '*')];
      }
    }
    case 'S3': {
      const object = s3Object(input.Bucket, input.Key);
      const stored = world.encryptionOf(str(input.Bucket), str(input.Key));
      const context = (own: boolean) => ({
        ...viaS3,
        'kms:EncryptionContext:aws:s3:arn': own ? object : `arn:aws:s3:::${str(input.Bucket)}`,
      });
      switch (call.operation) {
        case 'PutObject': {
          const key = str(input.SSEKMSKeyId) || stored?.kmsKeyId;
          return [
            req('s3:PutObject', object),
            ...(key
              ? [req('kms:GenerateDataKey', key, context(input.BucketKeyEnabled === false))]
              : []),
          ];
        }
        case 'GetObject':
          return [
            req(input.VersionId ? 's3:GetObjectVersion' : 's3:GetObject', object),
            ...(stored ? [req('kms:Decrypt', stored.kmsKeyId, context(stored.ownContext))] : []),
          ];
        case 'HeadObject':
          return [req(input.VersionId ? 's3:GetObjectVersion' : 's3:GetObject', object)];
        case 'ListObjectsV2':
          return [
            req('s3:ListBucket', `arn:aws:s3:::${str(input.Bucket)}`, {
              's3:prefix': str(input.Prefix),
            }),
          ];
        case 'ListObjectVersions':
          return [
            req('s3:ListBucketVersions', `arn:aws:s3:::${str(input.Bucket)}`, {
              's3:prefix': str(input.Prefix),
            }),
          ];
        case 'DeleteObject':
          return [req(input.VersionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject', object)];
        default:
          return [req(`s3:${call.operation}`, `arn:aws:s3:::${str(input.Bucket)}`)];
      }
    }
    case 'KMS': {
      const context = Object.fromEntries(
        Object.entries((input.EncryptionContext as Record<string, string>) ?? {}).map(([k, v]) => [
          `kms:EncryptionContext:${k}`,
          v,
        ]),
      );
      return [req(`kms:${call.operation}`, str(input.KeyId), context)];
    }
    case 'Secrets Manager':
      switch (call.operation) {
        case 'BatchGetSecretValue':
          return [
            req('secretsmanager:BatchGetSecretValue', '*'),
            ...((input.SecretIdList as string[]) ?? []).map((id) =>
              req('secretsmanager:GetSecretValue', id),
            ),
          ];
        case 'ListSecrets':
          return [req('secretsmanager:ListSecrets', '*')];
        default:
          return [req(`secretsmanager:${call.operation}`, str(input.SecretId) || '*')];
      }
    case 'SNS': {
      const key = world.alertKeyOf?.(region);
      const viaSns = { 'kms:ViaService': `sns.${region}.amazonaws.com` };
      return [
        req(`sns:${call.operation}`, str(input.TopicArn)),
        ...(key && call.operation === 'Publish'
          ? [req('kms:GenerateDataKey', key, viaSns), req('kms:Decrypt', key, viaSns)]
          : []),
      ];
    }
    case 'Route 53': {
      const zone = (id: unknown) =>
        `arn:aws:route53:::hostedzone/${str(id).replace(/^\/hostedzone\//, '')}`;
      switch (call.operation) {
        case 'ListResourceRecordSets':
          return [req('route53:ListResourceRecordSets', zone(input.HostedZoneId))];
        case 'ChangeResourceRecordSets': {
          const changes = ((input.ChangeBatch as { Changes?: unknown[] } | undefined)?.Changes ??
            []) as { Action?: string; ResourceRecordSet?: { Name?: string; Type?: string } }[];
          return [
            req('route53:ChangeResourceRecordSets', zone(input.HostedZoneId), {
              // As Route 53 normalizes them: lowercase, without the final dot.
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': changes.map((c) =>
                str(c.ResourceRecordSet?.Name).toLowerCase().replace(/\.$/, ''),
              ),
              'route53:ChangeResourceRecordSetsRecordTypes': changes.map((c) =>
                str(c.ResourceRecordSet?.Type),
              ),
              'route53:ChangeResourceRecordSetsActions': changes.map((c) => str(c.Action)),
            }),
          ];
        }
        case 'GetChange':
          return [
            req(
              'route53:GetChange',
              `arn:aws:route53:::change/${str(input.Id).replace(/^\/change\//, '')}`,
            ),
          ];
        case 'GetHealthCheckStatus':
          return [
            req(
              'route53:GetHealthCheckStatus',
              `arn:aws:route53:::healthcheck/${str(input.HealthCheckId)}`,
            ),
          ];
        default:
          return [req(`route53:${call.operation}`, '*')];
      }
    }
    case 'CloudWatch':
      // CloudWatch metric reads and writes have no resource-level permissions.
      return [req(`cloudwatch:${call.operation}`, '*')];
    case 'STS':
      // GetCallerIdentity needs no permission.
      if (call.operation === 'GetCallerIdentity') return [];
      return [req(`sts:${call.operation}`, str(input.RoleArn) || '*')];
    default:
      return [req(`${call.service.toLowerCase()}:${call.operation}`, '*')];
  }
}
