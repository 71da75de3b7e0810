import * as z from 'zod/mini';
import '../validation/zod.js';
import { fieldProblems } from '../validation/zod-issues.js';
import { PolicyError } from './errors.js';
import { readPackagedJson, readPolicySource } from './parse-policy.js';
import { parseYamlText } from './policy-file.js';
import {
  accountId,
  boundedInt,
  duration,
  gfsRules,
  policyName,
  region,
  scheduleExpression,
  timeZone,
} from './schema.js';

/** The vault policy file used when none is named; LIFEBOAT_VAULT_POLICY names another. */
export const DEFAULT_VAULT_POLICY_FILE = 'lifeboat.vault.yml';

/**
 * The isolated vault account's own policy: which production accounts send to it, how long its
 * bucket locks what they send, and its own retention and verification of their copies. Deployed
 * with the vault account's credentials; no production account can change it.
 */
export const VaultPolicySchema = z
  .strictObject(
    {
      version: z.literal(1, 'must be 1'),
      name: policyName,
      account: accountId('the vault account'),
      region,
      timeZone,
      /** The production accounts whose Lifeboat may send copies, each with its policy names. */
      sources: z
        .array(
          z.strictObject({
            account: accountId('a production account'),
            /** What the account is, for people reading the vault's reports. */
            label: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
          }),
          'must be a list of production accounts',
        )
        .check(z.minLength(1, 'must name at least one production account that sends copies')),
      /** Object Lock on the vault bucket: always COMPLIANCE, which not even the root user lifts. */
      objectLockDays: z._default(boundedInt(1, 36_500, 'must be 1-36500 days'), 35),
      retention: z.strictObject({
        schedule: z._default(scheduleExpression, 'cron(30 5 * * ? *)'),
        rules: gfsRules,
      }),
      verification: z._default(
        z.strictObject({
          schedule: z._default(scheduleExpression, 'rate(1 day)'),
          /** A source whose newest copy of a database is older than this has stopped sending. */
          freshness: z._default(
            duration('the newest copy of each database may be this old', '1h', '1y'),
            '2d',
          ),
          /** A copy still in progress this long after its slot has failed. */
          copyDeadline: z._default(
            duration('a copy still in progress this long has failed', '1h', '14d'),
            '1d',
          ),
        }),
        { schedule: 'rate(1 day)', freshness: '2d', copyDeadline: '1d' },
      ),
    },
    'a vault policy is a YAML mapping of version, name, account, region, timeZone, sources and retention',
  )
  .check(
    z.superRefine((vault, ctx) => {
      const seen = new Set<string>();
      (vault.sources ?? []).forEach((source, i) => {
        if (!source?.account) return;
        if (source.account === vault.account) {
          ctx.addIssue({
            code: 'custom',
            path: ['sources', i, 'account'],
            message: `is the vault account itself: a vault keeps copies from other accounts`,
            input: source.account,
          });
        } else if (seen.has(source.account)) {
          ctx.addIssue({
            code: 'custom',
            path: ['sources', i, 'account'],
            message: `names ${source.account} again`,
            input: source.account,
          });
        }
        seen.add(source.account);
      });
    }),
  );

export type VaultPolicy = z.output<typeof VaultPolicySchema>;

/** Validates a vault policy already parsed from YAML or JSON; a PolicyError names every problem. */
export function parseVaultPolicy(raw: unknown, source = 'vault policy'): VaultPolicy {
  const result = VaultPolicySchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  throw new PolicyError(source, fieldProblems(result.error.issues));
}

/** Reads, parses and validates a YAML vault policy file. */
export function loadVaultPolicyFile(path: string): VaultPolicy {
  return parseVaultPolicy(parseYamlText(readPolicySource(path), path), path);
}

/** Reads the vault policy as packaged with a vault function: JSON, validated again here. */
export function loadPackagedVaultPolicy(path: string): VaultPolicy {
  return parseVaultPolicy(readPackagedJson(path), path);
}
