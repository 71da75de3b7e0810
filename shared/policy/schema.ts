import { partition } from '@aws-sdk/core/client';
import * as z from 'zod/mini';
import '../validation/zod.js';
import { engineFamily, RDS_ENGINES } from '../naming/engines.js';
import { durationWithin, isZeroDuration, parseDuration } from './duration.js';
import { objectiveSeconds, objectiveText } from './objective.js';
import { longestGapMs, parseSchedule, scheduleExpressionProblem } from './schedule-expression.js';

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
// RDS instance and cluster identifiers: 1-63 letters, digits or hyphens, a letter first,
// no two hyphens in a row, no hyphen last.
const RDS_IDENTIFIER = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$/;
const KMS_KEY_ARN =
  /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key\/[A-Za-z0-9-]+|alias\/[A-Za-z0-9/_-]+)$/;

/** A region the SDK's partition data knows (a name it only pattern-matches has no description). */
export function isKnownRegion(name: string): boolean {
  return (
    REGION.test(name) && (partition(name) as { description?: string }).description !== undefined
  );
}

export const region = z.string().check(
  z.regex(REGION, 'must be an AWS region name such as eu-west-1'),
  z.refine(
    (name) => !REGION.test(name) || isKnownRegion(name),
    'is not an AWS region (the AWS SDK’s partition data has no such region)',
  ),
);

const count = (what: string) =>
  z
    .int(`must be a whole number of ${what}`)
    .check(
      z.minimum(0, `must be 0 or more ${what}`),
      z.maximum(100_000, `must be at most 100000 ${what}`),
    );

export const boundedInt = (min: number, max: number, message: string) =>
  z.int(message).check(z.minimum(min, message), z.maximum(max, message));

/**
 * A calendar duration within bounds the code can honour: `min` and `max` are durations too
 * (`0h` allows zero).
 */
export const duration = (what: string, min: string, max: string) =>
  z.string(`must be a duration such as 30d or 1y6m (${what})`).check(
    z.superRefine((text, ctx) => {
      const parsed = parseDuration(text);
      if (parsed === undefined) {
        ctx.addIssue({
          code: 'custom',
          input: text,
          message: `must be a duration such as 30d, 12h or 1y6m (units y, m, w, d, h) (${what})`,
        });
      } else if (!durationWithin(parsed, min, max)) {
        ctx.addIssue({
          code: 'custom',
          input: text,
          message: `must be ${min === '0h' ? 'at most' : `from ${min} to`} ${max} (${what})`,
        });
      }
    }),
  );

export const scheduleExpression = z
  .string('must be a schedule expression such as cron(0 3 * * ? *)')
  .check(
    z.superRefine((text, ctx) => {
      const problem = scheduleExpressionProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: text });
    }),
  );

const tagMap = z
  .record(
    z.string().check(z.minLength(1, 'tag keys must not be empty'), z.maxLength(128)),
    z
      .string('tag values must be strings')
      .check(z.maxLength(256, 'tag values are at most 256 characters')),
  )
  .check(z.refine((tags) => Object.keys(tags).length > 0, 'must name at least one tag'));

const rdsEngine = z.enum(
  RDS_ENGINES as [string, ...string[]],
  `must be an RDS engine: ${RDS_ENGINES.join(', ')}`,
);

const target = z
  .strictObject({
    kind: z.enum(['rds-instance', 'aurora-cluster'], 'must be rds-instance or aurora-cluster'),
    identifier: z.optional(
      z
        .string()
        .check(
          z.regex(
            RDS_IDENTIFIER,
            'must be 1-63 letters, digits or hyphens, start with a letter, and not end with or repeat a hyphen',
          ),
        ),
    ),
    tags: z.optional(tagMap),
    /** The database's engine, when known: drills check their SQL is written for it. */
    engine: z.optional(rdsEngine),
    /** Tags that may select no database, as expected (otherwise a run selecting none fails). */
    allowEmpty: z.optional(z.boolean('must be true or false')),
    /** The tier whose objectives the database must meet (default: objectives.default). */
    tier: z.optional(z.string('must be the name of one tier in objectives.tiers')),
  })
  .check(
    z.refine(
      (t) => (t.identifier === undefined) !== (t.tags === undefined),
      'give exactly one of identifier (one database) or tags (every database tagged so)',
    ),
  );

/**
 * Whether a set of retention rules keeps anything at all. Tolerates half-validated input, as the
 * schema asks it too.
 */
export function retentionKeepsSomething(
  rules: {
    readonly [K in
      | 'last'
      | 'hourly'
      | 'daily'
      | 'weekly'
      | 'monthly'
      | 'yearly'
      | 'lastVerified']?: unknown;
  } & { readonly within?: unknown },
): boolean {
  const counts = [
    rules.last,
    rules.hourly,
    rules.daily,
    rules.weekly,
    rules.monthly,
    rules.yearly,
    rules.lastVerified,
  ];
  if (counts.some((n) => typeof n === 'number' && n > 0)) return true;
  const within = typeof rules.within === 'string' ? parseDuration(rules.within) : undefined;
  return within !== undefined && !isZeroDuration(within);
}

/**
 * Grandfather-father-son rules with restic `forget` semantics. Counts cover the most recent
 * calendar buckets (in the policy's time zone) that hold a snapshot; rules are OR-ed.
 */
export const gfsRules = z
  .strictObject({
    last: z._default(count('snapshots'), 0),
    hourly: z._default(count('hours'), 0),
    daily: z._default(count('days'), 0),
    weekly: z._default(count('weeks'), 0),
    monthly: z._default(count('months'), 0),
    yearly: z._default(count('years'), 0),
    within: z.optional(duration('keep every snapshot this close to the newest', '0h', '100y')),
    lastVerified: z._default(count('verified snapshots'), 0),
    minimumAge: z._default(duration('never delete anything younger', '0h', '1y'), '1d'),
  })
  .check(
    z.refine(
      retentionKeepsSomething,
      'keeps nothing: an empty retention policy would delete every snapshot; set at least one of last, hourly, daily, weekly, monthly, yearly, within or lastVerified',
    ),
  );

const kmsKeyArn = z
  .string()
  .check(
    z.regex(
      KMS_KEY_ARN,
      'must be a KMS key ARN or alias ARN (arn:aws:kms:<region>:<account>:key/<id>)',
    ),
  );

const text = (what: string) =>
  z.string(`must be ${what}`).check(z.minLength(1, `must be ${what}`), z.maxLength(2048));

const rdsIdentifier = z
  .string()
  .check(
    z.regex(
      RDS_IDENTIFIER,
      'must be 1-63 letters, digits or hyphens, start with a letter, and not end with or repeat a hyphen',
    ),
  );

const idList = (pattern: RegExp, what: string) =>
  z
    .array(z.string().check(z.regex(pattern, `must be ${what}`)))
    .check(z.minLength(1, `must name at least one ${what}`));

const exactlyOne = <T extends object>(keys: readonly (keyof T & string)[], message: string) =>
  z.refine<T>((value) => keys.filter((k) => value[k] !== undefined).length === 1, message);

/** One smoke check: SQL whose first column of the first row must meet the expectation. */
const smokeCheck = z
  .strictObject({
    name: text('a name for the check'),
    sql: text('an SQL query'),
    atLeast: z.optional(z.number('must be a number: the least value the query may return')),
    isTrue: z.optional(z.literal(true, 'must be true: the query must return true')),
  })
  .check(exactlyOne(['atLeast', 'isTrue'], 'give exactly one expectation: atLeast or isTrue'));

const drillDatabase = z.strictObject({
  database: text('the database name to connect to'),
  credentialsSecret: text('the name or ARN of a secret holding {"username","password"}'),
  /** The engine the checks are written for; absent, they run on whatever the database runs. */
  engine: z.optional(rdsEngine),
  checks: z.array(smokeCheck).check(z.minLength(1, 'must list at least one smoke check')),
  freshness: z.optional(text("an SQL query returning the newest row's timestamp")),
});

/** An objective as elapsed time (`15min`, `1h30min`, `1d`) within bounds. */
const objective = (what: string, min: number, max: number) =>
  z.string(`must be ${what} such as 15min, 1h or 1d`).check(
    z.refine((t) => objectiveSeconds(t) !== undefined, `must be ${what} such as 15min, 1h or 1d`),
    z.refine(
      (t) => {
        const s = objectiveSeconds(t);
        return s === undefined || (s >= min && s <= max);
      },
      `must be from ${objectiveText(min)} to ${objectiveText(max)}`,
    ),
  );

/** A tier: the objectives its databases must meet, and the continuous backups that serve them. */
const tier = z.strictObject({
  rpo: objective('the most data loss allowed', 60, 30 * 86_400),
  rto: objective('the longest recovery allowed', 5 * 60, 7 * 86_400),
  continuousBackups: z.optional(
    z.strictObject({
      /** Days of automated backups (point-in-time restore) each database must keep: 1-35. */
      retentionDays: boundedInt(1, 35, 'must be 1-35 days (RDS keeps automated backups up to 35)'),
      /** Replicate RDS instances' automated backups to the DR region. */
      replicateToDr: z._default(z.boolean('must be true or false'), false),
    }),
  ),
});

const SECURITY_GROUP = /^sg-[0-9a-f]{8,17}$/;
const SUBNET = /^subnet-[0-9a-f]{8,17}$/;
const URL_PATTERN = /^https?:\/\/[^\s/$.?#].[^\s]*$/;

const healthProbe = z
  .strictObject({
    url: z.optional(z.string().check(z.regex(URL_PATTERN, 'must be an http(s) URL'))),
    route53HealthCheckId: z.optional(text('a Route 53 health check id')),
  })
  .check(
    exactlyOne(['url', 'route53HealthCheckId'], 'give exactly one of url or route53HealthCheckId'),
  );

const failoverDatabase = z
  .strictObject({
    replica: z.optional(rdsIdentifier),
    globalCluster: z.optional(text('the Aurora global database identifier')),
    drCluster: z.optional(rdsIdentifier),
    maxLagSeconds: z._default(boundedInt(0, 86_400, 'must be 0-86400 seconds'), 300),
    dns: z.strictObject({
      hostedZoneId: z
        .string()
        .check(z.regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, 'must be a Route 53 hosted zone id')),
      recordName: z
        .string()
        .check(
          z.regex(/^([a-z0-9-]+\.)+[a-z0-9-]+\.?$/i, 'must be a DNS name such as db.example.com'),
        ),
      ttl: z._default(boundedInt(1, 86_400, 'must be 1-86400 seconds'), 60),
    }),
    primaryHealth: z
      .strictObject({
        url: z.optional(z.string().check(z.regex(URL_PATTERN, 'must be an http(s) URL'))),
        route53HealthCheckId: z.optional(text('a Route 53 health check id')),
        failures: z._default(boundedInt(1, 10, 'must be 1-10 failed checks'), 3),
      })
      .check(
        exactlyOne(
          ['url', 'route53HealthCheckId'],
          'give exactly one of url or route53HealthCheckId',
        ),
      ),
    verify: healthProbe,
  })
  .check(
    z.refine(
      (f) =>
        (f.replica !== undefined) !== (f.globalCluster !== undefined && f.drCluster !== undefined),
      'give either replica (an RDS read replica in the DR region) or globalCluster and drCluster (Aurora global database)',
    ),
  );

const nonEmptyRecord = <V extends z.ZodMiniType>(value: V, what: string) =>
  z
    .record(rdsIdentifier, value)
    .check(z.refine((r) => Object.keys(r).length > 0, `must name at least one ${what}`));

export const ACCOUNT_ID = /^\d{12}$/;
const CUSTOMER_KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/[A-Za-z0-9-]+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

const COPY_CAPS = { instance: 20, cluster: 5 };
const QUOTAS = { instanceSnapshots: 100, clusterSnapshots: 100 };

/** Cross-region copies in flight at once, per kind (RDS's and Aurora's own limits). */
const copyCaps = z._default(
  z.strictObject({
    instance: z._default(
      boundedInt(1, 20, 'must be 1-20 (RDS allows 20 copies in flight per region)'),
      COPY_CAPS.instance,
    ),
    cluster: z._default(
      boundedInt(1, 5, 'must be 1-5 (Aurora allows 5 copies in flight per region)'),
      COPY_CAPS.cluster,
    ),
  }),
  COPY_CAPS,
);

/** An account's manual snapshot quotas in a region, per kind. */
const snapshotQuotas = z._default(
  z.strictObject({
    instanceSnapshots: z._default(
      boundedInt(1, 100_000, 'must be a positive number of manual snapshots'),
      QUOTAS.instanceSnapshots,
    ),
    clusterSnapshots: z._default(
      boundedInt(1, 100_000, 'must be a positive number of manual snapshots'),
      QUOTAS.clusterSnapshots,
    ),
  }),
  QUOTAS,
);

/** A 12-digit account id, which YAML reads as a number unless quoted. */
export const accountId = (what: string) =>
  z
    .string(`must be ${what}'s 12-digit id, quoted`)
    .check(z.regex(ACCOUNT_ID, `must be ${what}'s 12-digit id, quoted`));

/** A policy's name: part of every resource name its stack makes. */
export const policyName = z
  .string('must be a string')
  .check(
    z.regex(
      /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
      'must be 2-32 lowercase letters, digits or hyphens, starting with a letter',
    ),
  );

/** The zone schedules run and calendar buckets are cut in. */
export const timeZone = z
  .string('must be an IANA time zone such as Europe/Berlin')
  .check(z.refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC'));

/**
 * The isolated vault account: Lifeboat shares each snapshot (or its DR copy) with it, copies it
 * there under the vault's own key through the role it assumes there, then stops sharing.
 */
const vaultAccount = z.strictObject({
  account: accountId('the vault account'),
  /** Where the vault's copies live: the primary or the DR region (default: the DR region). */
  region: z.optional(region),
  kmsKeyArn: z
    .string(
      "must be the ARN of a customer-managed KMS key in the vault account (arn:aws:kms:<region>:<vault account>:key/<id>): the vault's copies are encrypted with the vault's own key",
    )
    .check(
      z.regex(
        CUSTOMER_KEY_ARN,
        'must be the ARN of a customer-managed KMS key in the vault account (arn:aws:kms:<region>:<vault account>:key/<id>), not an alias: RDS cannot share or copy across accounts under an AWS-managed key such as aws/rds',
      ),
    ),
  roleArn: z
    .string(
      'must be the ARN of the role Lifeboat assumes in the vault account (arn:aws:iam::<vault account>:role/<name>), from the vault stack',
    )
    .check(
      z.regex(
        ROLE_ARN,
        'must be the ARN of the role Lifeboat assumes in the vault account (arn:aws:iam::<vault account>:role/<name>), from the vault stack',
      ),
    ),
  /**
   * The vault stack's bucket (its VaultBucket output): every export and record revision is
   * written there too, under sources/<this account>/. Absent: only snapshots are sent.
   */
  bucket: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
          'must be an S3 bucket name: the vault stack’s VaultBucket output',
        ),
      ),
  ),
  /** Copies in flight into the vault region at once, per kind (the vault account's own limits). */
  copyCaps,
  /** The vault account's manual snapshot quotas in its region (shared by every source account). */
  quotas: snapshotQuotas,
});
const VERIFICATION = { schedule: 'rate(1 day)', lookback: '7d', copyDeadline: '12h' };

export const PolicySchema = z
  .strictObject(
    {
      version: z.literal(1, 'must be 1'),
      name: policyName,
      timeZone,
      regions: z.strictObject({ primary: region, dr: region }).check(
        z.refine((r) => r.primary !== r.dr, {
          error: 'the DR region must differ from the primary region',
          path: ['dr'],
        }),
      ),
      targets: z
        .array(target, 'must be a list of databases to protect')
        .check(z.minLength(1, 'must name at least one database to protect')),
      snapshots: z.strictObject({
        schedule: scheduleExpression,
        // The pipeline's backstop: each snapshot's next step is started by RDS's events, and by
        // this sweep when an event is late or lost.
        sweep: z._default(scheduleExpression, 'rate(5 minutes)'),
        drKmsKeyArn: kmsKeyArn,
        copyCaps,
        quotas: snapshotQuotas,
      }),
      rdsRequestsPerSecond: z._default(
        z
          .number('must be a number of requests per second')
          .check(
            z.minimum(1, 'must be at least 1 request per second'),
            z.maximum(12, 'must be at most 12: RDS allows 12 requests/s per account and region'),
          ),
        5,
      ),
      retention: z.strictObject({
        schedule: scheduleExpression,
        primary: gfsRules,
        dr: gfsRules,
      }),
      secrets: z.optional(
        z
          .strictObject({
            schedule: scheduleExpression,
            namePrefixes: z.optional(
              z
                .array(
                  z
                    .string('must be a secret name prefix')
                    .check(z.minLength(1, 'must not be empty'), z.maxLength(512)),
                )
                .check(z.minLength(1, 'must name at least one prefix')),
            ),
            tags: z.optional(tagMap),
            // A selection that matches no secret is a failed run unless it is expected to.
            allowEmpty: z._default(z.boolean('must be true or false'), false),
          })
          .check(
            z.refine(
              (s) => s.namePrefixes !== undefined || s.tags !== undefined,
              'give namePrefixes, tags or both: which secrets to export',
            ),
          ),
      ),
      verification: z._default(
        z.strictObject({
          schedule: z._default(scheduleExpression, VERIFICATION.schedule),
          lookback: z._default(
            duration('verify runs this recent until they pass', '1d', '1y'),
            VERIFICATION.lookback,
          ),
          copyDeadline: z._default(
            duration('a DR copy still in progress this long after its run has failed', '1h', '14d'),
            VERIFICATION.copyDeadline,
          ),
        }),
        VERIFICATION,
      ),
      drills: z.optional(
        z.strictObject({
          // Monthly by default: 04:00 on the first of the month, in the policy's time zone.
          schedule: z._default(scheduleExpression, 'cron(0 4 1 * ? *)'),
          // vault: the vault account's copies, shared back for the drill and restored here.
          site: z._default(
            z.enum(['primary', 'dr', 'vault'], 'must be primary, dr or vault'),
            'primary',
          ),
          pick: z._default(
            z.enum(
              ['latest-verified', 'random', 'point-in-time'],
              'must be latest-verified, random or point-in-time',
            ),
            'latest-verified',
          ),
          // A point-in-time pick restores the latest restorable time, or an instant at random
          // within the continuous backups' restore window.
          pointInTime: z._default(
            z.enum(['latest', 'random'], 'must be latest or random'),
            'latest',
          ),
          window: z._default(
            duration('random picks come from this recent past', '1d', '5y'),
            '30d',
          ),
          pollSeconds: z._default(
            boundedInt(30, 3600, 'must be 30-3600 seconds between polls'),
            60,
          ),
          timeout: z._default(
            duration('time allowed for the restore to become available', '1h', '7d'),
            '2h',
          ),
          leftoverAge: z._default(
            duration('the janitor deletes drill databases older than this', '1h', '30d'),
            '1d',
          ),
          janitorSchedule: z._default(scheduleExpression, 'rate(1 hour)'),
          instanceClass: z._default(
            z
              .string()
              .check(
                z.regex(
                  /^db\.[a-z0-9]+\.[a-z0-9]+$/,
                  'must be a DB instance class such as db.t4g.medium',
                ),
              ),
            'db.t4g.medium',
          ),
          tls: z._default(
            z.enum(
              ['verify-full', 'require', 'disable'],
              'must be verify-full (encrypted, the server proven by the RDS certificate authorities), require (encrypted, unproven) or disable',
            ),
            'verify-full',
          ),
          network: z.strictObject({
            subnetGroup: text('the DB subnet group drill databases are restored into'),
            securityGroupIds: idList(SECURITY_GROUP, 'security group id (sg-...)'),
            lambdaSubnetIds: z.optional(idList(SUBNET, 'subnet id (subnet-...)')),
            lambdaSecurityGroupIds: z.optional(
              idList(SECURITY_GROUP, 'security group id (sg-...)'),
            ),
          }),
          databases: nonEmptyRecord(drillDatabase, 'database to drill'),
        }),
      ),
      failover: z.optional(
        z.strictObject({
          pollSeconds: z._default(boundedInt(10, 600, 'must be 10-600 seconds'), 30),
          promotionTimeout: z._default(
            duration('time allowed for the promotion', '1h', '1d'),
            '1h',
          ),
          databases: nonEmptyRecord(failoverDatabase, 'database to fail over'),
        }),
      ),
      objectives: z.optional(
        z.strictObject({
          default: text('the tier of targets that name none'),
          tiers: nonEmptyRecord(tier, 'tier'),
          /**
           * Bring continuous backups up to each tier (retention, DR replication) rather than only
           * report them.
           */
          enforceContinuousBackups: z._default(z.boolean('must be true or false'), false),
          /** When the posture is measured and reported (and continuous backups enforced). */
          postureSchedule: z._default(scheduleExpression, 'rate(1 hour)'),
        }),
      ),
      vault: z.optional(vaultAccount),
      backupBucket: z._default(
        z.strictObject({
          objectLock: z.strictObject({
            mode: z.enum(['GOVERNANCE', 'COMPLIANCE'], 'must be GOVERNANCE or COMPLIANCE'),
            days: boundedInt(1, 36_500, 'must be 1-36500 days'),
          }),
        }),
        { objectLock: { mode: 'GOVERNANCE' as const, days: 35 } },
      ),
    },
    'a policy is a YAML mapping of version, name, timeZone, regions, targets, snapshots and retention',
  )
  .check(
    z.superRefine((policy, ctx) => {
      const dr = policy.regions?.dr;
      const keyRegion = KMS_KEY_ARN.exec(policy.snapshots?.drKmsKeyArn ?? '')?.[1];
      // Only between real regions: a bad DR region is blamed on the region, not on the key.
      if (dr && isKnownRegion(dr) && keyRegion && keyRegion !== dr) {
        ctx.addIssue({
          code: 'custom',
          path: ['snapshots', 'drKmsKeyArn'],
          message: `is in ${keyRegion}, but encrypted copies need a key in the DR region ${dr}`,
          input: policy.snapshots.drKmsKeyArn,
        });
      }
      const seen = new Map<string, number>();
      (policy.targets ?? []).forEach((t, i) => {
        if (!t?.identifier) return;
        const key = `${t.kind}/${t.identifier.toLowerCase()}`;
        const first = seen.get(key);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['targets', i, 'identifier'],
            message: `names ${t.identifier} again (already targets[${first}])`,
            input: t.identifier,
          });
        } else seen.set(key, i);
      });
      // A drill restores a target's snapshots: its database must be one (by identifier, or
      // possibly by tag when the policy selects some by tag).
      const identifiers = new Set((policy.targets ?? []).map((t) => t?.identifier));
      const byTag = (policy.targets ?? []).some((t) => t?.tags !== undefined);
      for (const name of Object.keys(policy.drills?.databases ?? {})) {
        if (identifiers.has(name) || byTag) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['drills', 'databases', name],
          message: `is not a target: drills restore the snapshots of the policy's targets, and no target is ${name} (targets: ${[...identifiers].filter(Boolean).join(', ')})`,
          input: name,
        });
      }
      objectiveProblems(policy, ctx);
      pointInTimeProblems(policy, ctx);
      vaultProblems(policy, ctx);
      // Checks written for one engine cannot run on a database the policy says runs another.
      for (const [name, drill] of Object.entries(policy.drills?.databases ?? {})) {
        const written = drill?.engine ? engineFamily(drill.engine) : undefined;
        if (!written) continue;
        (policy.targets ?? []).forEach((t, i) => {
          const runs = t?.engine ? engineFamily(t.engine) : undefined;
          if (t?.identifier !== name || !runs || runs === written) return;
          ctx.addIssue({
            code: 'custom',
            path: ['drills', 'databases', name, 'engine'],
            message: `is ${drill.engine}, but targets[${i}] says ${name} runs ${t.engine}: the checks are written for another engine`,
            input: drill.engine,
          });
        });
      }
    }),
  );

// RDS uploads transaction logs every 5 minutes: a point-in-time restore may lose that much.
const LOG_UPLOAD_S = 300;

/**
 * Objectives the policy's protection cannot reach, each refused with the reason: tiers that do
 * not exist, an RPO shorter than the restore points allow, an RTO drills cannot measure.
 */
function objectiveProblems(
  policy: {
    targets?: { tier?: string | undefined }[];
    timeZone?: string;
    snapshots?: { schedule?: string };
    objectives?: {
      default?: string;
      tiers?: Record<string, { rpo?: string; rto?: string; continuousBackups?: unknown }>;
    };
    drills?: { timeout?: string; pollSeconds?: number };
  },
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  const tiers = policy.objectives?.tiers ?? {};
  const names = Object.keys(tiers);
  const issue = (path: PropertyKey[], message: string, input: unknown) =>
    ctx.addIssue({ code: 'custom', path, message, input });
  (policy.targets ?? []).forEach((t, i) => {
    if (t?.tier === undefined || tiers[t.tier]) return;
    issue(
      ['targets', i, 'tier'],
      names.length
        ? `is not a tier: the tiers are ${names.join(', ')}`
        : 'names a tier, but the policy has no objectives.tiers',
      t.tier,
    );
  });
  const objectives = policy.objectives;
  if (!objectives) return;
  if (objectives.default !== undefined && !tiers[objectives.default]) {
    issue(
      ['objectives', 'default'],
      `is not a tier: the tiers are ${names.join(', ')}`,
      objectives.default,
    );
  }
  const schedule = policy.snapshots?.schedule;
  const gapS =
    schedule &&
    policy.timeZone &&
    !scheduleExpressionProblem(schedule) &&
    isTimeZone(policy.timeZone)
      ? longestGapMs(parseSchedule(schedule, policy.timeZone), new Date()) / 1000
      : undefined;
  const timeout = parseDuration(policy.drills?.timeout ?? '');
  const timeoutS = timeout ? timeout.days * 86_400 + timeout.hours * 3600 : undefined;
  const pollS = policy.drills?.pollSeconds;
  for (const [name, t] of Object.entries(tiers)) {
    // Only objectives within their own bounds: one problem per field.
    const within = (s: number | undefined, min: number, max: number) =>
      s !== undefined && s >= min && s <= max ? s : undefined;
    const rpo = within(objectiveSeconds(t?.rpo ?? ''), 60, 30 * 86_400);
    const rto = within(objectiveSeconds(t?.rto ?? ''), 5 * 60, 7 * 86_400);
    if (rpo !== undefined && !t.continuousBackups && gapS !== undefined && rpo < gapS) {
      issue(
        ['objectives', 'tiers', name, 'rpo'],
        `is ${objectiveText(rpo)}, but without continuousBackups the newest restore point can be ${objectiveText(gapS)} old (snapshots.schedule): give this tier continuousBackups, or allow at least ${objectiveText(gapS)}`,
        t.rpo,
      );
    }
    if (rpo !== undefined && t.continuousBackups && rpo < LOG_UPLOAD_S) {
      issue(
        ['objectives', 'tiers', name, 'rpo'],
        `is ${objectiveText(rpo)}, but RDS uploads transaction logs every 5 minutes, so a point-in-time restore can lose that much: allow at least 5min`,
        t.rpo,
      );
    }
    if (rto !== undefined && timeoutS !== undefined && rto > timeoutS) {
      issue(
        ['objectives', 'tiers', name, 'rto'],
        `is ${objectiveText(rto)}, but a drill stops waiting after drills.timeout (${objectiveText(timeoutS)}) and could never show it met: raise drills.timeout to at least ${objectiveText(rto)}`,
        t.rto,
      );
    }
    if (rto !== undefined && pollS !== undefined && rto < 2 * pollS) {
      issue(
        ['objectives', 'tiers', name, 'rto'],
        `is ${objectiveText(rto)}, but a drill looks at the restore only every ${pollS}s (drills.pollSeconds): allow at least ${objectiveText(2 * pollS)}, or poll more often`,
        t.rto,
      );
    }
  }
}

/**
 * A point-in-time drill in the DR region restores the replicated automated backups: each drilled
 * database's tier must replicate them, and Aurora has no such replicas.
 */
function pointInTimeProblems(
  policy: {
    targets?: { identifier?: string; tier?: string; kind?: string }[];
    objectives?: {
      default?: string;
      tiers?: Record<string, { continuousBackups?: { replicateToDr?: boolean } }>;
    };
    drills?: { pick?: string; site?: string; databases?: Record<string, unknown> };
  },
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  const drills = policy.drills;
  if (drills?.pick !== 'point-in-time' || drills.site !== 'dr') return;
  for (const name of Object.keys(drills.databases ?? {})) {
    const target = (policy.targets ?? []).find((t) => t?.identifier === name);
    if (!target) continue;
    const issue = (message: string) =>
      ctx.addIssue({ code: 'custom', path: ['drills', 'pick'], message, input: drills.pick });
    if (target.kind === 'aurora-cluster') {
      issue(
        `is point-in-time at site dr, but ${name} is an Aurora cluster: RDS replicates the automated backups of instances only; drill it at site primary, or pick a snapshot`,
      );
      continue;
    }
    const tierName = target.tier ?? policy.objectives?.default;
    const tier = tierName ? policy.objectives?.tiers?.[tierName] : undefined;
    if (!tier?.continuousBackups?.replicateToDr) {
      issue(
        `is point-in-time at site dr, but ${name}'s automated backups are not replicated there: give its tier (${tierName ?? 'none'}) continuousBackups with replicateToDr: true`,
      );
    }
  }
}

/**
 * A vault account must be another account than production's (named by the DR key's ARN), and its
 * key and role must be the vault account's, in the vault's region.
 */
function vaultProblems(
  policy: {
    regions?: { primary?: string; dr?: string };
    snapshots?: { drKmsKeyArn?: string };
    vault?: { account?: string; region?: string | undefined; kmsKeyArn?: string; roleArn?: string };
    drills?: { site?: string; pick?: string };
  },
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  if (policy.drills?.site === 'vault' && !policy.vault) {
    ctx.addIssue({
      code: 'custom',
      path: ['drills', 'site'],
      message: 'is vault, but the policy has no vault section: name the vault account first',
      input: 'vault',
    });
  }
  if (policy.drills?.site === 'vault' && policy.drills.pick === 'point-in-time') {
    ctx.addIssue({
      code: 'custom',
      path: ['drills', 'pick'],
      message:
        'is point-in-time, but the vault holds snapshot copies only: pick latest-verified or random at site vault',
      input: 'point-in-time',
    });
  }
  const vault = policy.vault;
  if (!vault?.account || !ACCOUNT_ID.test(vault.account)) return;
  const issue = (field: string, message: string, input: unknown) =>
    ctx.addIssue({ code: 'custom', path: ['vault', field], message, input });
  const production = KMS_KEY_ARN.exec(policy.snapshots?.drKmsKeyArn ?? '')
    ? policy.snapshots?.drKmsKeyArn?.split(':')[4]
    : undefined;
  if (production === vault.account) {
    issue(
      'account',
      `is ${vault.account}, the production account (snapshots.drKmsKeyArn is in it): the vault must be another account, one that production's credentials cannot delete from`,
      vault.account,
    );
  }
  const region = vault.region ?? policy.regions?.dr;
  if (
    vault.region &&
    policy.regions &&
    ![policy.regions.primary, policy.regions.dr].includes(vault.region)
  ) {
    issue(
      'region',
      `is ${vault.region}, but the vault copies the snapshots of the primary region (${policy.regions.primary}) or the DR region's copies (${policy.regions.dr}) within their region: give one of those`,
      vault.region,
    );
  }
  const key = CUSTOMER_KEY_ARN.exec(vault.kmsKeyArn ?? '');
  if (key && key[2] !== vault.account) {
    issue(
      'kmsKeyArn',
      `is a key of account ${key[2]}, but the vault's copies must be encrypted with a key of the vault account ${vault.account}`,
      vault.kmsKeyArn,
    );
  } else if (key && region && key[1] !== region) {
    issue(
      'kmsKeyArn',
      `is in ${key[1]}, but the vault's copies are made in ${region}: give a key in that region`,
      vault.kmsKeyArn,
    );
  }
  const role = ROLE_ARN.exec(vault.roleArn ?? '');
  if (role && role[1] !== vault.account) {
    issue(
      'roleArn',
      `is a role of account ${role[1]}, but Lifeboat must assume a role in the vault account ${vault.account}`,
      vault.roleArn,
    );
  }
}

export function isTimeZone(zone: string): boolean {
  // The first DateTimeFormat of a process costs 12-18 ms of ICU start-up, at every cold start;
  // the list of canonical zones costs about 1 ms. Aliases such as UTC take the slow path.
  if (Intl.supportedValuesOf('timeZone').includes(zone)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export type Policy = z.output<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;
export type GfsRules = Policy['retention']['primary'];
export type TargetSelector = Policy['targets'][number];
export type DrillPolicy = NonNullable<Policy['drills']>;
export type DrillDatabase = DrillPolicy['databases'][string];
export type SmokeCheck = DrillDatabase['checks'][number];
export type FailoverPolicy = NonNullable<Policy['failover']>;
export type FailoverDatabase = FailoverPolicy['databases'][string];
export type VaultAccountPolicy = NonNullable<Policy['vault']>;
