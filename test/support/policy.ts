import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicyFile } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';

export const FIXTURE_POLICY_FILE = 'test/fixtures/policy.yml';

/** The test policy, validated, as the functions and the CLI see it. */
export function fixturePolicy(): Policy {
  return loadPolicyFile(FIXTURE_POLICY_FILE);
}

/**
 * Writes a policy the way packaging does (validated JSON) and returns its path, for handlers,
 * which read LIFEBOAT_POLICY_PATH at cold start.
 */
export function packagedPolicyFile(policy: Policy = fixturePolicy()): string {
  const path = join(mkdtempSync(join(tmpdir(), 'lifeboat-policy-')), 'policy.json');
  writeFileSync(path, JSON.stringify(policy));
  return path;
}

/**
 * Two tiers, as the shipped policy has them: critical (15 minutes, back within the hour, from
 * 7 days of continuous backups, replicated to the DR region unless told otherwise) and standard
 * (a day, two hours; the default).
 */
export function tieredObjectives(
  options: { readonly replicateToDr?: boolean; readonly enforce?: boolean } = {},
): NonNullable<Policy['objectives']> {
  return {
    default: 'standard',
    tiers: {
      critical: {
        rpo: '15min',
        rto: '1h',
        continuousBackups: { retentionDays: 7, replicateToDr: options.replicateToDr ?? true },
      },
      standard: { rpo: '1d', rto: '2h' },
    },
    enforceContinuousBackups: options.enforce ?? false,
    postureSchedule: 'rate(1 hour)',
  };
}
