import {
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  StartDBInstanceAutomatedBackupsReplicationCommand,
  StopDBInstanceAutomatedBackupsReplicationCommand,
} from '@aws-sdk/client-rds';
import type { JobFailure } from '../alerts/failure-alert.js';
import type { RegionalRds } from '../aws/clients.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { errorSummary } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import { objectivesOf } from '../policy/tiers.js';
import { replicatedBackups } from '../rds/replicated-backups.js';
import { discoverTargets } from '../rds/targets.js';

/** One change made to a database's continuous backups. */
export interface ProtectionChange {
  readonly database: string;
  readonly change: 'retention-raised' | 'replication-started' | 'replication-stopped';
  readonly detail: string;
}

export interface ContinuousProtectionDeps {
  readonly primary: RegionalRds;
  readonly dr: RegionalRds;
  readonly limiter: RateLimiter;
}

/**
 * Brings each database's continuous backups up to its tier, when the policy says to enforce:
 * raises a shorter automated backup retention (ModifyDBInstance / ModifyDBCluster), starts
 * replicating an RDS instance's automated backups to the DR region (encrypted with the DR key)
 * where its tier replicates them, and stops a replication Lifeboat would have started (under
 * the policy's DR key) where its tier no longer does. Lowers nothing; touches no database the
 * policy does not target.
 */
export async function enforceContinuousProtection(
  deps: ContinuousProtectionDeps,
  policy: Policy,
): Promise<{ changes: ProtectionChange[]; failures: JobFailure[] }> {
  const changes: ProtectionChange[] = [];
  const failures: JobFailure[] = [];
  if (!policy.objectives?.enforceContinuousBackups) return { changes, failures };
  const [{ targets }, replicated] = await Promise.all([
    discoverTargets(deps.primary, policy.targets),
    replicatedBackups(deps.dr),
  ]);
  const attempt = async (subject: string, work: () => Promise<ProtectionChange>) => {
    try {
      changes.push(await deps.limiter.run(work));
    } catch (error) {
      failures.push({ subject, error: errorSummary(error) });
    }
  };
  for (const target of targets) {
    const objectives = objectivesOf(policy, target);
    const days = objectives?.retentionDays;
    const subject = `${target.kind} ${target.identifier}`;
    if (days && target.continuous.retentionDays < days) {
      await attempt(subject, async () => {
        if (target.kind === 'instance') {
          await deps.primary.client.send(
            new ModifyDBInstanceCommand({
              DBInstanceIdentifier: target.identifier,
              BackupRetentionPeriod: days,
              ApplyImmediately: true,
            }),
          );
        } else {
          await deps.primary.client.send(
            new ModifyDBClusterCommand({
              DBClusterIdentifier: target.identifier,
              BackupRetentionPeriod: days,
              ApplyImmediately: true,
            }),
          );
        }
        return {
          database: target.identifier,
          change: 'retention-raised',
          detail: `automated backups kept ${days} days (were ${target.continuous.retentionDays})`,
        };
      });
    }
    // Aurora has no automated-backup replication: its cross-region path is a global database.
    if (target.kind !== 'instance') continue;
    const replica = replicated.get(target.arn);
    if (objectives?.replicateToDr && !replica && days) {
      await attempt(subject, async () => {
        await deps.dr.client.send(
          new StartDBInstanceAutomatedBackupsReplicationCommand({
            SourceDBInstanceArn: target.arn,
            BackupRetentionPeriod: days,
            KmsKeyId: policy.snapshots.drKmsKeyArn,
          }),
        );
        return {
          database: target.identifier,
          change: 'replication-started',
          detail: `automated backups replicated to ${deps.dr.region} for ${days} days`,
        };
      });
    }
    if (
      replica &&
      !objectives?.replicateToDr &&
      replica.kmsKeyId === policy.snapshots.drKmsKeyArn
    ) {
      await attempt(subject, async () => {
        await deps.dr.client.send(
          new StopDBInstanceAutomatedBackupsReplicationCommand({ SourceDBInstanceArn: target.arn }),
        );
        return {
          database: target.identifier,
          change: 'replication-stopped',
          detail: `its tier no longer replicates automated backups to ${deps.dr.region}`,
        };
      });
    }
  }
  return { changes, failures };
}
