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
      return [{ path: formatPath(issue.path), message: 'is required' }];
    }
    return [{ path: formatPath(issue.path), message: issue.message }];
  });
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => {
    if (typeof part === 'number') return `${text}[${part}]`;
    return text ? `${text}.${String(part)}` : String(part);
  }, '');
}
