import { parseDocument } from 'yaml';
import { PolicyError } from './errors.js';
import { parsePolicy, readPolicySource } from './parse-policy.js';
import type { Policy } from './schema.js';

/** The policy file used when none is named; LIFEBOAT_POLICY names another. */
export const DEFAULT_POLICY_FILE = 'lifeboat.policy.yml';

/** The policy file to use: the one named, else LIFEBOAT_POLICY, else the default. */
export function policyPath(named?: string, env: NodeJS.ProcessEnv = process.env): string {
  return named ?? env.LIFEBOAT_POLICY ?? DEFAULT_POLICY_FILE;
}

/** Parses and validates policy YAML text. */
export function parsePolicyText(text: string, source = 'policy'): Policy {
  return parsePolicy(parseYamlText(text, source), source);
}

/**
 * Parses YAML text into plain data, refusing duplicate keys and alias bombs: a PolicyError names
 * the line. The caller validates the data with its schema.
 */
export function parseYamlText(text: string, source: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      source,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        message: `YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    );
  }
  let raw: unknown;
  try {
    // yaml refuses documents whose aliases expand past 100 (a "billion laughs" bomb).
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw new PolicyError(
      source,
      [{ path: '', message: 'YAML: its aliases expand too far (more than 100); write it out' }],
      { cause },
    );
  }
  return raw;
}

/** Reads, parses and validates a YAML policy file. */
export function loadPolicyFile(path: string): Policy {
  return parsePolicyText(readPolicySource(path), path);
}
