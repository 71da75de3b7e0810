import { type CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  GlobalClusterNotFoundFault,
} from '@aws-sdk/client-rds';
import { ListResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import * as z from 'zod/mini';
import '../validation/zod.js';
import type { RegionalRds } from '../aws/clients.js';
import { secondsFrom } from '../policy/duration.js';
import type { FailoverDatabase, FailoverPolicy, Policy } from '../policy/schema.js';
import { parseEvent } from '../validation/parse-event.js';
import { type HealthProbeConfig, type HttpProbe, route53Health } from './health.js';

/** What starts a failover: the database, the typed confirmation, and how careful to be. */
export const FailoverInputSchema = z.strictObject({
  target: z.string('must be the identifier of a database in the policy’s failover section'),
  confirm: z.string('must be the confirmation phrase: failover <target> to <DR region>'),
  planned: z._default(z.boolean('must be true or false'), false),
  force: z._default(z.boolean('must be true or false'), false),
});

export type FailoverInput = z.output<typeof FailoverInputSchema>;

/** The phrase a failover's input must carry, word for word. */
export function confirmationPhrase(target: string, region: string): string {
  return `failover ${target} to ${region}`;
}

export type PreconditionStatus = 'pass' | 'fail' | 'skipped';

export interface Precondition {
  readonly name: string;
  readonly status: PreconditionStatus;
  readonly detail: string;
}

export type PromotionState = 'replica' | 'promoting' | 'promoted';

/** Everything the failover's states need, found out once by preflight. */
export interface FailoverPlan {
  readonly failoverId: string;
  readonly policy: string;
  readonly target: string;
  readonly region: string;
  readonly kind: 'replica' | 'global';
  readonly planned: boolean;
  readonly force: boolean;
  readonly startedAt: string;
  /** The DR instance (replica) or the DR cluster (Aurora global database). */
  readonly drDatabase: string;
  readonly globalCluster: string | null;
  /** The DR cluster's ARN, as the global cluster calls take it. */
  readonly drClusterArn: string | null;
  readonly promotion: PromotionState;
  /** The DR endpoint the DNS record will point at. */
  readonly endpoint: string;
  readonly dns: {
    readonly hostedZoneId: string;
    readonly recordName: string;
    readonly ttl: number;
    readonly current: string | null;
    readonly switched: boolean;
  };
  readonly verify: HealthProbeConfig;
  readonly pollSeconds: number;
  readonly maxPolls: number;
  readonly preconditions: readonly Precondition[];
}

/** The policy cannot fail over what was asked. */
export class FailoverConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailoverConfigError';
  }
}

/** One or more preconditions failed; the message names every one. Nothing was changed. */
export class FailoverPreconditionError extends Error {
  readonly preconditions: readonly Precondition[];

  constructor(target: string, preconditions: readonly Precondition[]) {
    const failed = preconditions.filter((p) => p.status === 'fail');
    super(
      `failover of ${target} stopped before changing anything: ${failed.map((p) => `${p.name}: ${p.detail}`).join('; ')}`,
    );
    this.name = 'FailoverPreconditionError';
    this.preconditions = preconditions;
  }
}

export interface PreflightDeps {
  /** RDS in the region this runs in, which must be the DR region. */
  readonly rds: RegionalRds;
  readonly route53: Route53Client;
  readonly cloudwatch: CloudWatchClient;
  readonly probe: HttpProbe;
  /** Pause between probes of the primary's health. */
  readonly pause?: (ms: number) => Promise<void>;
}

const LAG_WINDOW_MS = 5 * 60_000;
const PROBE_SPACING_MS = 2_000;

/** The failover section's entry for a target, or an error naming the configured ones. */
export function failoverDatabaseOf(
  policy: Policy,
  target: string,
): { section: FailoverPolicy; database: FailoverDatabase } {
  const section = policy.failover;
  if (!section) throw new FailoverConfigError(`policy ${policy.name} has no failover section`);
  const database = section.databases[target];
  if (!database) {
    throw new FailoverConfigError(
      `no failover is configured for ${target}; the policy fails over ${Object.keys(section.databases).join(', ')}`,
    );
  }
  return { section, database };
}

/** A policy probe (url or Route 53 health check) as a probe configuration. */
export function probeOf(config: {
  readonly url?: string | undefined;
  readonly route53HealthCheckId?: string | undefined;
}): HealthProbeConfig {
  return config.url !== undefined
    ? { url: config.url }
    : { route53HealthCheckId: config.route53HealthCheckId ?? '' };
}

/**
 * Looks at everything a failover depends on and says where it stands, changing nothing: the
 * plan for the state machine, with every precondition's status. `input.confirm` is checked
 * only when given (a dry run has none).
 */
export async function assessFailover(
  deps: PreflightDeps,
  policy: Policy,
  input: Omit<FailoverInput, 'confirm'> & { readonly confirm?: string },
  failoverId: string,
  startedAt: Date,
): Promise<FailoverPlan> {
  const { section, database } = failoverDatabaseOf(policy, input.target);
  const region = policy.regions.dr;
  const preconditions: Precondition[] = [];
  const phrase = confirmationPhrase(input.target, region);
  preconditions.push(
    input.confirm === undefined
      ? {
          name: 'confirmation',
          status: 'skipped',
          detail: `a failover must be confirmed with "${phrase}"`,
        }
      : input.confirm === phrase
        ? { name: 'confirmation', status: 'pass', detail: `confirmed "${phrase}"` }
        : {
            name: 'confirmation',
            status: 'fail',
            detail: `the input must confirm with exactly "${phrase}"`,
          },
  );
  preconditions.push(
    deps.rds.region === region
      ? { name: 'region', status: 'pass', detail: `runs in the DR region ${region}` }
      : {
          name: 'region',
          status: 'fail',
          detail: `runs in ${deps.rds.region}; a failover runs in the DR region ${region}`,
        },
  );

  const replica =
    database.replica !== undefined
      ? await inspectReplica(deps.rds, database.replica)
      : await inspectGlobal(deps.rds, database.globalCluster ?? '', database.drCluster ?? '');
  preconditions.push(...replica.preconditions);
  const promoted = replica.promotion !== 'replica';

  preconditions.push(
    promoted
      ? {
          name: 'lag',
          status: 'skipped',
          detail: `the DR database is already ${replica.promotion}`,
        }
      : input.force
        ? { name: 'lag', status: 'skipped', detail: 'forced: replica lag not checked' }
        : await checkLag(deps.cloudwatch, database, startedAt),
  );
  preconditions.push(
    promoted
      ? {
          name: 'primary-unhealthy',
          status: 'skipped',
          detail: `the DR database is already ${replica.promotion}`,
        }
      : input.planned
        ? {
            name: 'primary-unhealthy',
            status: 'skipped',
            detail: 'planned: the primary may be healthy',
          }
        : await checkPrimaryDown(deps, database),
  );

  const dns = await currentRecord(deps.route53, database.dns.hostedZoneId, database.dns.recordName);
  preconditions.push(dns.precondition);
  const switched =
    dns.value !== null && replica.endpoint !== '' && sameName(dns.value, replica.endpoint);
  const promotionSeconds = secondsFrom(startedAt, section.promotionTimeout);
  return {
    failoverId,
    policy: policy.name,
    target: input.target,
    region,
    kind: database.replica !== undefined ? 'replica' : 'global',
    planned: input.planned,
    force: input.force,
    startedAt: startedAt.toISOString(),
    drDatabase: database.replica ?? database.drCluster ?? '',
    globalCluster: database.globalCluster ?? null,
    drClusterArn: replica.clusterArn,
    promotion: replica.promotion,
    endpoint: replica.endpoint,
    dns: {
      ...database.dns,
      // Route 53 takes the bare zone id; the policy may give it as /hostedzone/<id>.
      hostedZoneId: database.dns.hostedZoneId.replace(/^\/hostedzone\//, ''),
      current: dns.value,
      switched,
    },
    verify: probeOf(database.verify),
    pollSeconds: section.pollSeconds,
    maxPolls: Math.max(1, Math.ceil(promotionSeconds / section.pollSeconds)),
    preconditions,
  };
}

/**
 * The failover state machine's first step: assesses (with the input's confirmation) and stops
 * with FailoverPreconditionError, naming every failing precondition, unless all hold.
 */
export async function preflightFailover(
  deps: PreflightDeps,
  policy: Policy,
  event: unknown,
  failoverId: string,
  startedAt: Date,
): Promise<FailoverPlan> {
  const input = parseEvent(FailoverInputSchema, event);
  const plan = await assessFailover(deps, policy, input, failoverId, startedAt);
  if (plan.preconditions.some((p) => p.status === 'fail'))
    throw new FailoverPreconditionError(input.target, plan.preconditions);
  return plan;
}

interface ReplicaState {
  readonly promotion: PromotionState;
  readonly endpoint: string;
  readonly clusterArn: string | null;
  readonly preconditions: readonly Precondition[];
}

// Read replication statuses from which promotion is not safe.
const BROKEN_REPLICATION = new Set(['error', 'stopped', 'terminated']);

async function inspectReplica(rds: RegionalRds, id: string): Promise<ReplicaState> {
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

async function inspectGlobal(
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
async function checkLag(
  cloudwatch: CloudWatchClient,
  database: FailoverDatabase,
  now: Date,
): Promise<Precondition> {
  const global = database.replica === undefined;
  const metric = global ? 'AuroraGlobalDBReplicationLag' : 'ReplicaLag';
  const dimension = global
    ? { Name: 'DBClusterIdentifier', Value: database.drCluster ?? '' }
    : { Name: 'DBInstanceIdentifier', Value: database.replica ?? '' };
  const out = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/RDS',
      MetricName: metric,
      Dimensions: [dimension],
      StartTime: new Date(now.getTime() - LAG_WINDOW_MS),
      EndTime: now,
      Period: 60,
      Statistics: ['Maximum'],
    }),
  );
  const newest = [...(out.Datapoints ?? [])].sort(
    (a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0),
  )[0];
  if (newest?.Maximum === undefined) {
    return {
      name: 'lag',
      status: 'fail',
      detail: `no ${metric} reported for ${dimension.Value} in the last 5 minutes (force skips this check)`,
    };
  }
  // Aurora reports global replication lag in milliseconds, RDS replica lag in seconds.
  const lagSeconds = global ? newest.Maximum / 1000 : newest.Maximum;
  const within = lagSeconds <= database.maxLagSeconds;
  return {
    name: 'lag',
    status: within ? 'pass' : 'fail',
    detail: `${metric} ${lagSeconds}s ${within ? 'within' : 'exceeds'} the maximum of ${database.maxLagSeconds}s${within ? '' : ' (force skips this check)'}`,
  };
}

/** The primary has failed its health check the policy's number of times. */
async function checkPrimaryDown(
  deps: PreflightDeps,
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
async function currentRecord(
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
const sameName = (a: string, b: string) => normalName(a) === normalName(b);

/** What the Preflight task receives: the execution's input, name and start time. */
export const FailoverStartSchema = z.strictObject({
  input: z.unknown(),
  failoverId: z.string().check(z.minLength(1)),
  startedAt: z.iso.datetime({ offset: true, error: 'must be the execution’s start time' }),
});

/** The failover's state as Preflight leaves it. */
export interface FailoverStart {
  readonly input: unknown;
  readonly preflight: FailoverPlan;
  /** Where promotion stands: promoted already, or zero polls so far. */
  readonly promotion: {
    readonly state: 'promoted' | 'waiting';
    readonly status: string;
    readonly endpoint: string;
    readonly count: 0;
    readonly observedAt: string;
  };
}

/** The Preflight task: checks every precondition and starts the failover's state. */
export async function startFailover(
  deps: PreflightDeps,
  policy: Policy,
  event: unknown,
  now: Date,
): Promise<FailoverStart> {
  const { input, failoverId, startedAt } = parseEvent(FailoverStartSchema, event);
  const preflight = await preflightFailover(deps, policy, input, failoverId, new Date(startedAt));
  return {
    input,
    preflight,
    promotion: {
      state: preflight.promotion === 'promoted' ? 'promoted' : 'waiting',
      status: preflight.promotion,
      endpoint: preflight.endpoint,
      count: 0,
      observedAt: now.toISOString(),
    },
  };
}
