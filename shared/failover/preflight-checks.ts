import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  GlobalClusterNotFoundFault,
} from '@aws-sdk/client-rds';
import { ListResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import type { RegionalRds } from '../aws/clients.js';
import type { FailoverDatabase } from '../policy/schema.js';
import { lagMetricOf, newestLagSeconds } from '../rds/replication-lag.js';
import type { HealthProbeConfig, Precondition, PromotionState } from './failover-contract.js';
import { type HttpProbe, route53Health } from './health.js';

/**
 * The preflight's checks, one function per precondition: each looks at one thing a failover
 * depends on and says pass, fail or skipped, and why. A new precondition is a new function here,
 * called from the preflight.
 */

const PROBE_SPACING_MS = 2_000;

/** The input's confirmation: absent in a dry run (skipped), or exactly the phrase. */
export function checkConfirmation(confirm: string | undefined, phrase: string): Precondition {
  return confirm === undefined
    ? {
        name: 'confirmation',
        status: 'skipped',
        detail: `a failover must be confirmed with "${phrase}"`,
      }
    : confirm === phrase
      ? { name: 'confirmation', status: 'pass', detail: `confirmed "${phrase}"` }
      : {
          name: 'confirmation',
          status: 'fail',
          detail: `the input must confirm with exactly "${phrase}"`,
        };
}

/** A failover acts from the DR region. */
export function checkRegion(actual: string, dr: string): Precondition {
  return actual === dr
    ? { name: 'region', status: 'pass', detail: `runs in the DR region ${dr}` }
    : {
        name: 'region',
        status: 'fail',
        detail: `runs in ${actual}; a failover runs in the DR region ${dr}`,
      };
}

/** Where the DR database stands, and the replica-exists and replicating preconditions. */
export interface ReplicaState {
  readonly promotion: PromotionState;
  readonly endpoint: string;
  readonly clusterArn: string | null;
  readonly preconditions: readonly Precondition[];
}

// Read replication statuses from which promotion is not safe.
const BROKEN_REPLICATION = new Set(['error', 'stopped', 'terminated']);

export async function inspectReplica(rds: RegionalRds, id: string): Promise<ReplicaState> {
  const missing = (detail: string): ReplicaState => ({
    promotion: 'replica',
    endpoint: '',
    clusterArn: null,
    preconditions: [
      { name: 'replica-exists', status: 'fail', detail },
      { name: 'replicating', status: 'fail', detail: 'no replica to promote' },
    ],
  });
  let db: Awaited<ReturnType<typeof describeInstance>>;
  try {
    db = await describeInstance(rds, id);
  } catch (error) {
    if (error instanceof DBInstanceNotFoundFault)
      return missing(`no DB instance ${id} in ${rds.region}`);
    throw error;
  }
  if (!db) return missing(`no DB instance ${id} in ${rds.region}`);
  const endpoint = db.Endpoint?.Address ?? '';
  const status = db.DBInstanceStatus ?? 'unknown';
  const exists: Precondition = {
    name: 'replica-exists',
    status: 'pass',
    detail: `${id} in ${rds.region} is ${status}`,
  };
  if (!db.ReadReplicaSourceDBInstanceIdentifier) {
    const promotion: PromotionState = status === 'available' ? 'promoted' : 'promoting';
    return {
      promotion,
      endpoint,
      clusterArn: null,
      preconditions: [
        exists,
        {
          name: 'replicating',
          status: 'skipped',
          detail: `${id} is no longer a replica: ${promotion}`,
        },
      ],
    };
  }
  const replication = db.StatusInfos?.find((s) => s.StatusType === 'read replication');
  const broken =
    replication &&
    (replication.Normal === false || BROKEN_REPLICATION.has(replication.Status ?? ''));
  const replicating: Precondition =
    status !== 'available'
      ? { name: 'replicating', status: 'fail', detail: `${id} is ${status}, not available` }
      : broken
        ? {
            name: 'replicating',
            status: 'fail',
            detail: `read replication is ${replication?.Status ?? 'unknown'}${replication?.Message ? `: ${replication.Message}` : ''}`,
          }
        : {
            name: 'replicating',
            status: 'pass',
            detail: `replicates ${db.ReadReplicaSourceDBInstanceIdentifier}`,
          };
  return { promotion: 'replica', endpoint, clusterArn: null, preconditions: [exists, replicating] };
}

async function describeInstance(rds: RegionalRds, id: string) {
  const out = await rds.client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  return out.DBInstances?.[0];
}

export async function inspectGlobal(
  rds: RegionalRds,
  globalId: string,
  clusterId: string,
): Promise<ReplicaState> {
  let cluster: { arn: string; endpoint: string; status: string } | undefined;
  try {
    const out = await rds.client.send(
      new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId }),
    );
    const c = out.DBClusters?.[0];
    if (c)
      cluster = {
        arn: c.DBClusterArn ?? '',
        endpoint: c.Endpoint ?? '',
        status: c.Status ?? 'unknown',
      };
  } catch (error) {
    if (!(error instanceof DBClusterNotFoundFault)) throw error;
  }
  if (!cluster) {
    return {
      promotion: 'replica',
      endpoint: '',
      clusterArn: null,
      preconditions: [
        {
          name: 'replica-exists',
          status: 'fail',
          detail: `no DB cluster ${clusterId} in ${rds.region}`,
        },
        { name: 'replicating', status: 'fail', detail: 'no secondary cluster to promote' },
      ],
    };
  }
  const exists: Precondition = {
    name: 'replica-exists',
    status: 'pass',
    detail: `${clusterId} in ${rds.region} is ${cluster.status}`,
  };
  let global: Awaited<ReturnType<typeof describeGlobal>>;
  try {
    global = await describeGlobal(rds, globalId);
  } catch (error) {
    if (!(error instanceof GlobalClusterNotFoundFault)) throw error;
  }
  const base = { endpoint: cluster.endpoint, clusterArn: cluster.arn };
  if (!global) {
    return {
      ...base,
      promotion: 'replica',
      preconditions: [
        exists,
        { name: 'replicating', status: 'fail', detail: `no global database ${globalId}` },
      ],
    };
  }
  const member = global.GlobalClusterMembers?.find((m) => m.DBClusterArn === cluster.arn);
  const inFlight = global.FailoverState?.Status;
  if (member?.IsWriter) {
    const promotion: PromotionState = inFlight ? 'promoting' : 'promoted';
    return {
      ...base,
      promotion,
      preconditions: [
        exists,
        {
          name: 'replicating',
          status: 'skipped',
          detail: `${clusterId} is already the writer: ${promotion}`,
        },
      ],
    };
  }
  if (inFlight && global.FailoverState?.ToDbClusterArn === cluster.arn) {
    return {
      ...base,
      promotion: 'promoting',
      preconditions: [
        exists,
        {
          name: 'replicating',
          status: 'skipped',
          detail: `a switchover to ${clusterId} is ${inFlight}`,
        },
      ],
    };
  }
  const replicating: Precondition = !member
    ? {
        name: 'replicating',
        status: 'fail',
        detail: `${clusterId} is not a member of global database ${globalId}`,
      }
    : inFlight
      ? {
          name: 'replicating',
          status: 'fail',
          detail: `global database ${globalId} is already ${inFlight}`,
        }
      : cluster.status !== 'available'
        ? {
            name: 'replicating',
            status: 'fail',
            detail: `${clusterId} is ${cluster.status}, not available`,
          }
        : {
            name: 'replicating',
            status: 'pass',
            detail: `secondary of global database ${globalId}`,
          };
  return { ...base, promotion: 'replica', preconditions: [exists, replicating] };
}

async function describeGlobal(rds: RegionalRds, id: string) {
  const out = await rds.client.send(
    new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: id }),
  );
  return out.GlobalClusters?.[0];
}

/** The newest replication lag the DR database reported in the last five minutes. */
export async function checkLag(
  cloudwatch: CloudWatchClient,
  database: FailoverDatabase,
  now: Date,
): Promise<Precondition> {
  const source = {
    kind: database.replica === undefined ? 'global-secondary' : 'replica',
    identifier: database.replica ?? database.drCluster ?? '',
  } as const;
  const metric = lagMetricOf(source);
  const lagSeconds = await newestLagSeconds(cloudwatch, source, now);
  if (lagSeconds === undefined) {
    return {
      name: 'lag',
      status: 'fail',
      detail: `no ${metric} reported for ${source.identifier} in the last 5 minutes (force skips this check)`,
    };
  }
  const within = lagSeconds <= database.maxLagSeconds;
  return {
    name: 'lag',
    status: within ? 'pass' : 'fail',
    detail: `${metric} ${lagSeconds}s ${within ? 'within' : 'exceeds'} the maximum of ${database.maxLagSeconds}s${within ? '' : ' (force skips this check)'}`,
  };
}

/** The primary has failed its health check the policy's number of times. */
export async function checkPrimaryDown(
  deps: {
    readonly route53: Route53Client;
    readonly probe: HttpProbe;
    readonly pause?: ((ms: number) => Promise<void>) | undefined;
  },
  database: FailoverDatabase,
): Promise<Precondition> {
  const { failures } = database.primaryHealth;
  const probe = probeOf(database.primaryHealth);
  if ('route53HealthCheckId' in probe) {
    const seen = await route53Health(deps.route53, probe.route53HealthCheckId);
    const down = !seen.healthy && seen.failing >= failures;
    return {
      name: 'primary-unhealthy',
      status: down ? 'pass' : 'fail',
      detail: down
        ? `${seen.detail}: the primary is down`
        : `${seen.detail}: the primary is not down (${failures} failing checkers needed; planned skips this check)`,
    };
  }
  const pause = deps.pause ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let failed = 0;
  let last = '';
  for (let i = 0; i < failures; i++) {
    if (i > 0) await pause(PROBE_SPACING_MS);
    const seen = await deps.probe(probe.url);
    last = seen.detail;
    if (seen.healthy) {
      return {
        name: 'primary-unhealthy',
        status: 'fail',
        detail: `${probe.url} answered (${seen.detail}) after ${failed} failure(s): the primary is not down (planned skips this check)`,
      };
    }
    failed++;
  }
  return {
    name: 'primary-unhealthy',
    status: 'pass',
    detail: `${probe.url} failed ${failed} of ${failures} checks (${last})`,
  };
}

/** The record's current CNAME value, if it has one. */
export async function currentRecord(
  route53: Route53Client,
  zone: string,
  name: string,
): Promise<{ value: string | null; precondition: Precondition }> {
  const wanted = normalName(name);
  try {
    const out = await route53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zone,
        StartRecordName: wanted,
        MaxItems: 10,
      }),
    );
    const sets = (out.ResourceRecordSets ?? []).filter((r) => normalName(r.Name ?? '') === wanted);
    const other = sets.find((r) => r.Type !== 'CNAME');
    if (other) {
      return {
        value: null,
        precondition: {
          name: 'dns',
          status: 'fail',
          detail: `${name} is a ${other.Type} record; Lifeboat switches CNAME records`,
        },
      };
    }
    const value = sets[0]?.ResourceRecords?.[0]?.Value ?? null;
    return {
      value,
      precondition: {
        name: 'dns',
        status: 'pass',
        detail: value
          ? `${name} points at ${value}`
          : `${name} does not exist yet; it will be created`,
      },
    };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      value: null,
      precondition: {
        name: 'dns',
        status: 'fail',
        detail: `cannot read ${name} in zone ${zone}: ${message}`,
      },
    };
  }
}

const normalName = (name: string) => `${name.toLowerCase().replace(/\.$/, '')}.`;
export const sameName = (a: string, b: string) => normalName(a) === normalName(b);

/** A policy probe (url or Route 53 health check) as a probe configuration. */
export function probeOf(config: {
  readonly url?: string | undefined;
  readonly route53HealthCheckId?: string | undefined;
}): HealthProbeConfig {
  return config.url !== undefined
    ? { url: config.url }
    : { route53HealthCheckId: config.route53HealthCheckId ?? '' };
}
