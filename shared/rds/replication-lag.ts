import { type CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';

const LAG_WINDOW_MS = 5 * 60_000;

/** Where a replica's lag is reported: an RDS read replica, or an Aurora global secondary. */
export interface LagSource {
  readonly kind: 'replica' | 'global-secondary';
  /** The read replica's instance identifier, or the secondary cluster's identifier. */
  readonly identifier: string;
}

/** The CloudWatch metric a replica's lag is reported in. */
export const lagMetricOf = (source: LagSource) =>
  source.kind === 'global-secondary' ? 'AuroraGlobalDBReplicationLag' : 'ReplicaLag';

/**
 * The newest replication lag a replica reported in the last five minutes, in seconds (Aurora
 * reports global replication lag in milliseconds, RDS replica lag in seconds); undefined when it
 * reported none.
 */
export async function newestLagSeconds(
  cloudwatch: CloudWatchClient,
  source: LagSource,
  now: Date,
): Promise<number | undefined> {
  const global = source.kind === 'global-secondary';
  const out = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/RDS',
      MetricName: lagMetricOf(source),
      Dimensions: [
        {
          Name: global ? 'DBClusterIdentifier' : 'DBInstanceIdentifier',
          Value: source.identifier,
        },
      ],
      StartTime: new Date(now.getTime() - LAG_WINDOW_MS),
      EndTime: now,
      Period: 60,
      Statistics: ['Maximum'],
    }),
  );
  const newest = [...(out.Datapoints ?? [])].sort(
    (a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0),
  )[0];
  if (newest?.Maximum === undefined) return undefined;
  return global ? newest.Maximum / 1000 : newest.Maximum;
}
