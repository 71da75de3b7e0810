import { readFileSync } from 'node:fs';
import { fieldProblems } from '../validation/zod-issues.js';
import { PolicyError } from './errors.js';
import { type Policy, PolicySchema } from './schema.js';

/**
 * Validates a policy already parsed from YAML or JSON. Throws a PolicyError naming every bad
 * field and why.
 */
export function parsePolicy(raw: unknown, source = 'policy'): Policy {
  const result = PolicySchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  throw new PolicyError(source, fieldProblems(result.error.issues));
}

/** Reads a file, failing with a PolicyError that says why it could not be read. */
export function readPolicySource(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory; name the policy file in it (lifeboat.policy.yml)'
          : code === 'EACCES'
            ? 'permission denied'
            : 'unreadable';
    throw new PolicyError(path, [{ path: '', message: `cannot read the policy: ${reason}` }], {
      cause,
    });
  }
}

/**
 * Reads the policy as packaged with a function: JSON written at package time from the YAML
 * policy, validated again here by the same schema. Keeps a YAML parser out of every bundle.
 */
export function loadPackagedPolicy(path: string): Policy {
  return parsePolicy(readPackagedJson(path), path);
}

/** Reads a packaged JSON policy (production's or the vault's), before its schema checks it. */
export function readPackagedJson(path: string): unknown {
  const text = readPolicySource(path);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PolicyError(path, [{ path: '', message: 'is not valid JSON' }], { cause });
  }
}
