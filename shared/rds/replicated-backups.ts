import { paginateDescribeDBInstanceAutomatedBackups } from '@aws-sdk/client-rds';
import type { RegionalRds } from '../aws/clients.js';

/** Automated backups RDS replicates into a region from a database in another. */
export interface ReplicatedBackups {
  /** The source database's identifier and ARN (in its own region). */
  readonly identifier: string;
  readonly sourceArn: string;
  /** The replica's own ARN (auto-backup:ab-...), which a point-in-time restore names. */
  readonly arn: string;
  readonly engine: string | undefined;
  readonly earliestTime: Date | undefined;
  readonly latestTime: Date | undefined;
  readonly retentionDays: number;
  readonly kmsKeyId: string | undefined;
}

/**
 * A region's replicated automated backups, by the ARN of the database they come from: one paged
 * listing. The region's own automated backups (whose Region is this one) are not replicas.
 */
export async function replicatedBackups(
  region: RegionalRds,
): Promise<Map<string, ReplicatedBackups>> {
  const found = new Map<string, ReplicatedBackups>();
  for await (const page of paginateDescribeDBInstanceAutomatedBackups(
    { client: region.client, pageSize: 100 },
    {},
  )) {
    for (const b of page.DBInstanceAutomatedBackups ?? []) {
      if (!b.DBInstanceArn || b.Region === region.region) continue;
      found.set(b.DBInstanceArn, {
        identifier: b.DBInstanceIdentifier ?? '',
        sourceArn: b.DBInstanceArn,
        arn: b.DBInstanceAutomatedBackupsArn ?? '',
        engine: b.Engine,
        earliestTime: b.RestoreWindow?.EarliestTime,
        latestTime: b.RestoreWindow?.LatestTime,
        retentionDays: b.BackupRetentionPeriod ?? 0,
        kmsKeyId: b.KmsKeyId,
      });
    }
  }
  return found;
}
