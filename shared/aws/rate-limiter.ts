/**
 * Spaces calls out to at most `perSecond` on average, letting `burst` go at once. Reservations
 * are made synchronously, so concurrent callers share the budget fairly.
 */
export class RateLimiter {
  private readonly interval: number;
  private readonly tolerance: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private nextAt = Number.NEGATIVE_INFINITY;

  constructor(options: {
    perSecond: number;
    burst?: number;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
  }) {
    if (!(options.perSecond > 0)) throw new RangeError('perSecond must be above 0');
    this.interval = 1000 / options.perSecond;
    this.tolerance = (Math.max(1, options.burst ?? 1) - 1) * this.interval;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Waits for this call's turn, then runs it. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const now = this.now();
    const at = Math.max(this.nextAt, now - this.tolerance);
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
export function rdsLimiter(perSecond: number): RateLimiter {
  return new RateLimiter({ perSecond, burst: 20 });
}
