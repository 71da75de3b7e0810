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
