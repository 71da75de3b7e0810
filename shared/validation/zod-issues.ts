import type * as z from 'zod/mini';

/** A validation problem as people read it: a dotted path such as `targets[1].identifier`, and why. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Turns zod issues into one problem per bad field. Parse with `reportInput: true` so that a
 * missing field reads "is required".
 */
export function fieldProblems(issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: 'is not a known field (check its spelling and where it is nested)',
      }));
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      // A field's own words (what it must be) say more than zod's type names.
      const own = issue.message.startsWith('Invalid input') ? '' : `: ${issue.message}`;
      return [{ path: formatPath(issue.path), message: `is required${own}` }];
    }
    if (issue.code === 'invalid_type') {
      return [{ path: formatPath(issue.path), message: typeMessage(issue) }];
    }
    return [{ path: formatPath(issue.path), message: issue.message }];
  });
}

const KINDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value lines)',
  null: 'nothing (null)',
};

/** What a value is, in words. */
function kindOf(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return `the text "${value.length > 40 ? `${value.slice(0, 37)}...` : value}"`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return String(value);
  return KINDS[typeof value] ?? typeof value;
}

/**
 * A value of the wrong kind, in Lifeboat's words: the field's own message when it has one
 * (zod's default reads "Invalid input: expected ..."), and a number written in quotes named as
 * such, since YAML reads "60" as text.
 */
function typeMessage(issue: z.core.$ZodIssueInvalidType): string {
  const own = !issue.message.startsWith('Invalid input');
  const base = own
    ? issue.message
    : `must be ${KINDS[issue.expected] ?? issue.expected}, not ${kindOf(issue.input)}`;
  const numeric =
    (issue.expected === 'number' || issue.expected === 'int') &&
    typeof issue.input === 'string' &&
    issue.input.trim() !== '' &&
    Number.isFinite(Number(issue.input));
  return numeric
    ? `${base} (it is written in quotes, "${issue.input}": write it without them)`
    : base;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => {
    if (typeof part === 'number') return `${text}[${part}]`;
    return text ? `${text}.${String(part)}` : String(part);
  }, '');
}
