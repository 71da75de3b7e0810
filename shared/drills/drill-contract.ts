import * as z from 'zod/mini';
import '../validation/zod.js';
import { CaughtSchema } from '../reports/report-text.js';

/**
 * Every shape that crosses the restore-drill state machine, declared once: what starts a drill,
 * the plan its states share, what each task returns into the state, and each task's input (a
 * selection of the plan, as the ASL file passes it). Types are derived from these schemas.
 */

/** What starts a drill: the database to drill, and optionally how to pick its restore point. */
export const DrillInputSchema = z.strictObject({
  target: z.string('must be the identifier of a database in the policy’s drills'),
  pick: z.optional(
    z.enum(
      ['latest-verified', 'random', 'point-in-time'],
      'must be latest-verified, random or point-in-time',
    ),
  ),
  snapshotId: z.optional(z.string('must be the identifier of one of the target’s snapshots')),
});

export type DrillInput = z.output<typeof DrillInputSchema>;

/** What the Plan task receives: the execution's input and its start time. */
export const DrillStartSchema = z.strictObject({
  input: z.unknown(),
  startedAt: z.iso.datetime({ offset: true, error: 'must be the execution’s start time' }),
});

const SmokeCheckSchema = z.strictObject({
  name: z.string(),
  sql: z.string(),
  atLeast: z.optional(z.number()),
  isTrue: z.optional(z.literal(true)),
});

/**
 * What the smoke checks ask of the restored database, and as whom: `engine` is the engine the
 * policy wrote the checks for (null: whatever the database runs).
 */
const DrillCheckSchema = z.strictObject({
  database: z.string(),
  credentialsSecret: z.string(),
  engine: z.nullable(z.string()),
  checks: z.array(SmokeCheckSchema).check(z.minLength(1)),
  freshness: z.nullable(z.string()),
  tls: z.enum(['verify-full', 'require', 'disable']),
});

const drillId = z.string().check(z.minLength(1));
const instanceId = z.string().check(z.minLength(1));
const clusterId = z.nullable(z.string().check(z.minLength(1)));
const count = z.int().check(z.minimum(0));
const maxPolls = z.int().check(z.minimum(1));

/** Everything the drill's states need, decided once at the start. */
export const DrillPlanSchema = z.object({
  drillId,
  policy: z.string(),
  target: z.string(),
  kind: z.enum(['instance', 'cluster']),
  region: z.string(),
  startedAt: z.iso.datetime(),
  snapshot: z.object({
    id: z.string(),
    arn: z.string(),
    time: z.iso.datetime(),
    verifiedAt: z.nullable(z.string()),
  }),
  /** snapshot: restore `snapshot`; point-in-time: restore continuous backups to `pointInTime`. */
  restore: z.enum(['snapshot', 'point-in-time']),
  /**
   * For a point-in-time restore: the instant, and its source: the database itself in its own
   * region, or (in the DR region) the ARN of its replicated automated backups.
   */
  pointInTime: z.nullable(
    z.object({
      time: z.iso.datetime(),
      sourceIdentifier: z.nullable(z.string()),
      sourceBackupsArn: z.nullable(z.string()),
    }),
  ),
  /** The target's tier and its objectives, in seconds; null when the policy sets none. */
  objectives: z.nullable(z.object({ tier: z.string(), rpoSeconds: z.int(), rtoSeconds: z.int() })),
  engine: z.string(),
  instanceId,
  /** The temporary cluster, for Aurora; null for an instance. */
  clusterId,
  instanceClass: z.string(),
  network: z.object({ subnetGroup: z.string(), securityGroupIds: z.array(z.string()) }),
  tags: z.array(z.object({ Key: z.string(), Value: z.string() })),
  pollSeconds: z.int(),
  maxPolls,
  /** Teardown attempts before the drill gives up and alerts (the janitor finishes the job). */
  maxTeardowns: z.int(),
  /** Where a failed teardown is reported. */
  alertTopicArn: z.string(),
  check: DrillCheckSchema,
  /**
   * A drill of the vault account's copy (site vault): the vault, the role that shared the copy
   * with this account for the drill, and the copy. The share ends when the drill reports.
   */
  vaultCopy: z.optional(
    z.nullable(
      z.object({
        account: z.string(),
        roleArn: z.string(),
        kind: z.enum(['instance', 'cluster']),
        snapshotId: z.string(),
        sharedWith: z.string(),
      }),
    ),
  ),
});

export type DrillPlan = z.output<typeof DrillPlanSchema>;

/** PollRestore's input: the plan's databases and the polls so far. */
export const RestorePollInputSchema = z.strictObject({ instanceId, clusterId, count, maxPolls });

/** What one poll of the restoring database found. */
export const RestorePollSchema = z.object({
  count: z.int(),
  /** available: checks may start; failed: the restore will not finish; timed-out: too long. */
  state: z.enum(['available', 'waiting', 'failed', 'timed-out']),
  status: z.string(),
  address: z.nullable(z.string()),
  port: z.nullable(z.int()),
  observedAt: z.string(),
});

export type RestorePoll = z.output<typeof RestorePollSchema>;

/** SmokeChecks' input: where the restored database answers, its engine, and the plan's checks. */
export const SmokeInputSchema = z.strictObject({
  drillId: z.string(),
  engine: z.string().check(z.minLength(1)),
  address: z.string().check(z.minLength(1)),
  port: z.int().check(z.minimum(1), z.maximum(65_535)),
  check: DrillCheckSchema,
});

export type SmokeInput = z.output<typeof SmokeInputSchema>;

/** One check's outcome. Values are the first column of the first row, clipped for the report. */
const CheckOutcomeSchema = z.object({
  name: z.string(),
  passed: z.boolean(),
  expected: z.string(),
  value: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  error: z.optional(z.string()),
});

export type CheckOutcome = z.output<typeof CheckOutcomeSchema>;

export const SmokeResultSchema = z.object({
  passed: z.boolean(),
  checks: z.array(CheckOutcomeSchema),
  /** The newest row's time from the freshness query, when the policy gives one and it answered. */
  newestData: z.nullable(z.string()),
  /** When the last check finished: the end of the drill's RTO. */
  checkedAt: z.string(),
});

export type SmokeResult = z.output<typeof SmokeResultSchema>;

/** Teardown's input: the plan's databases and the attempts so far. */
export const TeardownInputSchema = z.strictObject({
  drillId,
  instanceId,
  clusterId,
  attempts: count,
});

/** Where teardown got to: done once every drill database is gone or being deleted. */
export const TeardownResultSchema = z.object({
  done: z.boolean(),
  /** Databases this attempt asked RDS to delete. */
  deleted: z.array(z.string()),
  /** Databases already gone or already being deleted. */
  gone: z.array(z.string()),
  /** Databases that cannot be deleted yet (e.g. still modifying); the next attempt tries again. */
  pending: z.array(z.string()),
  attempts: z.int(),
});

export type TeardownResult = z.output<typeof TeardownResultSchema>;

/**
 * The drill's state as the states leave it: the plan, and whatever the states after it got to
 * (a poll holds only its count until the first look).
 */
export const DrillStateSchema = z.object({
  plan: DrillPlanSchema,
  poll: z.optional(z.extend(z.partial(RestorePollSchema), { count: z.int() })),
  checks: z.optional(SmokeResultSchema),
  error: z.optional(CaughtSchema),
  teardown: z.optional(TeardownResultSchema),
  teardownError: z.optional(CaughtSchema),
});

export type DrillState = z.output<typeof DrillStateSchema>;

/** The drill's state as Plan leaves it; later states add poll, checks, error, report. */
export interface DrillStart {
  readonly input: unknown;
  readonly plan: DrillPlan;
  readonly teardown: TeardownResult & { readonly done: false; readonly attempts: 0 };
}
