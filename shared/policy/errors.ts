import type { FieldProblem } from '../validation/zod-issues.js';

export type PolicyIssue = FieldProblem;

/** A policy that cannot be used. Lists every problem found, not only the first. */
export class PolicyError extends Error {
  readonly issues: readonly PolicyIssue[];

  constructor(source: string, issues: readonly PolicyIssue[], options?: { cause?: unknown }) {
    super(
      `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues
        .map((i) => `  - ${i.path || '(top level)'}: ${i.message}`)
        .join('\n')}`,
      options,
    );
    this.name = 'PolicyError';
    this.issues = issues;
  }
}
