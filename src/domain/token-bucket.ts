/**
 * A token bucket: the coordinator's for moves between live instances (a join
 * or an operator's rebalance cannot turn into a storm of revocations), and
 * each Connect session's for the messages its instance sends. Time (monotonic
 * milliseconds) is passed in, which keeps it deterministic under test.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.perSecond);
    this.updatedAt = now;
  }

  /** Whole tokens available now. */
  available(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens);
  }

  /** Takes one token if there is one (each message of a session): one refill, not two. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  take(count: number, now: number): void {
    this.refill(now);
    this.tokens = Math.max(0, this.tokens - count);
  }

  /** Milliseconds until at least one token is available (Infinity when the rate is 0). */
  msUntilNext(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return 0;
    if (this.perSecond <= 0 || this.burst < 1) return Infinity;
    return Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }
}
