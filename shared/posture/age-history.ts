import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { METRIC_NAMESPACE, RECOVERY_POINT_AGE_METRIC } from '../observability/metric-names.js';

/** A database's restore-point age in one region over time: the day's oldest, in seconds. */
export interface AgeSeries {
  readonly target: string;
  readonly region: string;
  /** Oldest first: [ISO day, seconds]. */
  readonly points: readonly (readonly [string, number])[];
}

const DAY_S = 86_400;
// GetMetricData takes at most 500 queries per call.
const QUERIES_PER_CALL = 500;

/**
 * How old each database's newest restore point was, per region, each day of the last `days`:
 * the RecoveryPointAge the posture job publishes, the day's maximum (the worst moment of the
 * day). One GetMetricData call per 500 series and page.
 */
export async function readAgeHistory(
  cloudwatch: CloudWatchClient,
  series: readonly { readonly target: string; readonly region: string }[],
  now: Date,
  days: number,
): Promise<AgeSeries[]> {
  const end = new Date(Math.ceil(now.getTime() / (DAY_S * 1000)) * DAY_S * 1000);
  const start = new Date(end.getTime() - days * DAY_S * 1000);
  const found = new Map<string, [string, number][]>();
  for (let at = 0; at < series.length; at += QUERIES_PER_CALL) {
    const batch = series.slice(at, at + QUERIES_PER_CALL);
    const queries: MetricDataQuery[] = batch.map((s, i) => ({
      Id: `a${at + i}`,
      MetricStat: {
        Metric: {
          Namespace: METRIC_NAMESPACE,
          MetricName: RECOVERY_POINT_AGE_METRIC,
          Dimensions: [
            { Name: 'service', Value: 'posture-report' },
            { Name: 'Target', Value: s.target },
            { Name: 'Region', Value: s.region },
          ],
        },
        Period: DAY_S,
        Stat: 'Maximum',
      },
      ReturnData: true,
    }));
    let token: string | undefined;
    do {
      const out = await cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: start,
          EndTime: end,
          ScanBy: 'TimestampAscending',
          NextToken: token,
        }),
      );
      for (const result of out.MetricDataResults ?? []) {
        const list = found.get(result.Id ?? '') ?? [];
        (result.Timestamps ?? []).forEach((t, i) => {
          const value = result.Values?.[i];
          if (value !== undefined) list.push([t.toISOString(), value]);
        });
        found.set(result.Id ?? '', list);
      }
      token = out.NextToken;
    } while (token);
  }
  return series.map((s, i) => ({
    ...s,
    points: (found.get(`a${i}`) ?? []).sort((a, b) => a[0].localeCompare(b[0])),
  }));
}
