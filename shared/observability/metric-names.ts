/** Metric namespace of every Lifeboat metric; the alarms in the stack use it too. */
export const METRIC_NAMESPACE = 'Lifeboat';

/**
 * Published by every scheduled job (dimension service) each time a run succeeds: its heartbeat.
 * An alarm fires when none is seen within the schedule's longest gap and a margin.
 */
export const JOB_SUCCEEDED_METRIC = 'JobSucceeded';

/** Published by snapshot-rds per region and kind; alarmed at 80%. */
export const QUOTA_METRIC = 'ManualSnapshotQuotaUsedPercent';

/** Published by verify-manifest per target and region: how old its newest verified restore point is. */
export const RESTORE_POINT_AGE_METRIC = 'VerifiedRestorePointAge';

/** Restore drills, per Target: seconds from drill start to smoke checks passed. */
export const DRILL_RTO_METRIC = 'DrillRTO';
/** Restore drills, per Target: seconds between the newest data restored and the drill start. */
export const DRILL_RPO_METRIC = 'DrillRPO';
/** Restore drills, per Target: 1 when the drill proved the restore point, 0 when it did not. */
export const DRILL_SUCCEEDED_METRIC = 'DrillSucceeded';

/** 1 when a drill proved the data but missed its tier's RTO or RPO, else 0 (per Target). */
export const DRILL_OBJECTIVE_MISSED_METRIC = 'DrillObjectiveMissed';
/** Failovers, per Target: seconds from start to a healthy DR endpoint. */
export const FAILOVER_RTO_METRIC = 'FailoverRTO';

/** Published by posture-report per Target and Region: the age of the newest restore point. */
export const RECOVERY_POINT_AGE_METRIC = 'RecoveryPointAge';
/** Published by posture-report: how many databases miss an objective now; alarmed at 1. */
export const OBJECTIVES_MISSED_METRIC = 'ObjectivesMissed';

/** Seconds since the newest verified restore point of a database, in either region (per Target). */
export const VERIFIED_RESTORE_POINT_AGE_METRIC = 'VerifiedRestorePointAge';
