/** A call's turn would come after the run's deadline: it is not made, so the run can record. */
export class OutOfTimeError extends Error {
  constructor(deadline: number) {
    super(
      `not started: its turn under the request rate comes after the run's deadline (${new Date(deadline).toISOString()}); a later run does it`,
    );
    this.name = 'OutOfTimeError';
  }
}

/**
 * Spaces calls out to at most `perSecond` on average, letting `burst` go at once. Reservations
 * are made synchronously, so concurrent callers share the budget fairly.
 */
export class RateLimiter {
  private readonly interval: number;
  private readonly tolerance: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly deadline: number;
  private nextAt = Number.NEGATIVE_INFINITY;

  constructor(options: {
    perSecond: number;
    burst?: number;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
    /** Epoch milliseconds after which no call starts (the invocation must still record). */
    deadline?: number;
  }) {
    if (!(options.perSecond > 0)) throw new RangeError('perSecond must be above 0');
    this.deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    this.interval = 1000 / options.perSecond;
    this.tolerance = (Math.max(1, options.burst ?? 1) - 1) * this.interval;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Waits for this call's turn, then runs it; refuses a turn past the deadline. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const now = this.now();
    const at = Math.max(this.nextAt, now - this.tolerance);
    if (at > this.deadline) throw new OutOfTimeError(this.deadline);
    this.nextAt = at + this.interval;
    const wait = at - now;
    if (wait > 0) await this.sleep(wait);
    return call();
  }
}

/**
 * The limiter for one run's mutating RDS calls: `perSecond` sustained, with a small burst so
 * that a run of a few targets is not slowed at all.
 */
export function rdsLimiter(perSecond: number, deadline?: number): RateLimiter {
  return new RateLimiter({ perSecond, burst: 20, ...(deadline ? { deadline } : {}) });
}

/**
 * The latest moment a Lambda invocation starts another paced call: its own deadline less the
 * time it needs to record what it did.
 */
export function invocationDeadline(
  context: { getRemainingTimeInMillis(): number },
  reserveMs = 120_000,
): number {
  return Date.now() + context.getRemainingTimeInMillis() - reserveMs;
}
