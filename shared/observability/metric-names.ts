/** Metric namespace of every Lifeboat metric; the alarms in the stack use it too. */
export const METRIC_NAMESPACE = 'Lifeboat';

/** Published by snapshot-rds per region and kind; alarmed at 80%. */
export const QUOTA_METRIC = 'ManualSnapshotQuotaUsedPercent';

/** Published by verify-manifest per target and region: how old its newest verified restore point is. */
export const RESTORE_POINT_AGE_METRIC = 'VerifiedRestorePointAge';
