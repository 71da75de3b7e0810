/** Exit codes of the lifeboat command. */
export const EXIT = {
  ok: 0,
  /** It ran, and something it checked or did failed (a target, a deletion). */
  failed: 1,
  /** Bad input: a policy, an argument, a file. Nothing was changed. */
  badInput: 2,
  /** Could not run: AWS unreachable, credentials missing, moto not installed. */
  cannotRun: 3,
} as const;

/** A command-line argument that cannot be used. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
