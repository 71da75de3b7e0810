import * as z from 'zod/mini';
import '../validation/zod.js';
import { CaughtSchema } from '../reports/report-text.js';

/**
 * Every shape that crosses the regional-failover state machine, declared once: what starts a
 * failover, the plan preflight hands the other states, what each task returns into the state,
 * and each task's input (a selection of the plan, as the ASL file passes it). Types are derived
 * from these schemas.
 */

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

/** What the Preflight task receives: the execution's input, name and start time. */
export const FailoverStartSchema = z.strictObject({
  input: z.unknown(),
  failoverId: z.string().check(z.minLength(1)),
  startedAt: z.iso.datetime({ offset: true, error: 'must be the execution’s start time' }),
});

export const PreconditionSchema = z.object({
  name: z.string(),
  status: z.enum(['pass', 'fail', 'skipped']),
  detail: z.string(),
});

export type Precondition = z.output<typeof PreconditionSchema>;
export type PreconditionStatus = Precondition['status'];

export const PromotionStateSchema = z.enum(['replica', 'promoting', 'promoted']);
export type PromotionState = z.output<typeof PromotionStateSchema>;

/** How a health check is asked: an HTTP(S) URL answering 2xx, or a Route 53 health check. */
export const HealthProbeSchema = z.union([
  z.strictObject({ url: z.string().check(z.minLength(1)) }),
  z.strictObject({ route53HealthCheckId: z.string().check(z.minLength(1)) }),
]);

export type HealthProbeConfig = z.output<typeof HealthProbeSchema>;

const DnsPlanSchema = z.object({
  hostedZoneId: z.string(),
  recordName: z.string(),
  ttl: z.int(),
  current: z.nullable(z.string()),
  switched: z.boolean(),
});

const kind = z.enum(['replica', 'global']);
const drDatabase = z.string().check(z.minLength(1));
const globalCluster = z.nullable(z.string());
const drClusterArn = z.nullable(z.string());
const maxPolls = z.int().check(z.minimum(1));

/** Everything the failover's states need, found out once by preflight. */
export const FailoverPlanSchema = z.object({
  failoverId: z.string(),
  policy: z.string(),
  target: z.string(),
  region: z.string(),
  kind,
  planned: z.boolean(),
  force: z.boolean(),
  startedAt: z.iso.datetime(),
  /** The DR instance (replica) or the DR cluster (Aurora global database). */
  drDatabase,
  globalCluster,
  /** The DR cluster's ARN, as the global cluster calls take it. */
  drClusterArn,
  promotion: PromotionStateSchema,
  /** The DR endpoint the DNS record will point at. */
  endpoint: z.string(),
  dns: DnsPlanSchema,
  verify: HealthProbeSchema,
  pollSeconds: z.int(),
  maxPolls,
  preconditions: z.array(PreconditionSchema),
});

export type FailoverPlan = z.output<typeof FailoverPlanSchema>;

/** WatchPromotion's input: the plan's DR database and the polls so far. */
export const PromotionCheckInputSchema = z.strictObject({
  kind,
  drDatabase,
  globalCluster,
  drClusterArn,
  count: z.int().check(z.minimum(0)),
  maxPolls,
});

/** One look at the promotion. */
export const PromotionCheckSchema = z.object({
  state: z.enum(['promoted', 'waiting', 'timed-out']),
  status: z.string(),
  /** The endpoint the DNS record will point at, once promoted. */
  endpoint: z.nullable(z.string()),
  count: z.int(),
  observedAt: z.string(),
});

export type PromotionCheck = z.output<typeof PromotionCheckSchema>;

/** The failover's state as Preflight leaves it. */
export interface FailoverStart {
  readonly input: unknown;
  readonly preflight: FailoverPlan;
  /** Where promotion stands: promoted already, or zero polls so far. */
  readonly promotion: PromotionCheck & {
    readonly state: 'promoted' | 'waiting';
    readonly endpoint: string;
    readonly count: 0;
  };
}

/** VerifyHealth's input: the probe preflight took from the policy. */
export const VerifyInputSchema = z.strictObject({ verify: HealthProbeSchema });

export const HealthResultSchema = z.object({
  healthy: z.boolean(),
  detail: z.string(),
  checkedAt: z.string(),
});

/**
 * The failover's state when it reaches Report: the plan (what the report reads of it), and
 * whatever the states after preflight got to; fields appear only when their state ran.
 */
export const FailoverStateSchema = z.object({
  preflight: z.extend(
    z.pick(FailoverPlanSchema, {
      failoverId: true,
      policy: true,
      target: true,
      region: true,
      kind: true,
      planned: true,
      force: true,
      startedAt: true,
      drDatabase: true,
      endpoint: true,
      preconditions: true,
    }),
    {
      promotion: z.string(),
      dns: z.pick(DnsPlanSchema, { recordName: true, switched: true, current: true }),
    },
  ),
  promoteCall: z.optional(z.object({ action: z.string() })),
  promotion: z.optional(PromotionCheckSchema),
  dns: z.optional(z.object({ changeId: z.string() })),
  dnsStatus: z.optional(z.object({ status: z.string(), submittedAt: z.optional(z.string()) })),
  health: z.optional(HealthResultSchema),
  error: z.optional(CaughtSchema),
});

export type FailoverState = z.output<typeof FailoverStateSchema>;

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
