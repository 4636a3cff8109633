/**
 * Fires once the orchestrator must consider the lease expired: `leaseTtlMs` after the last
 * message known to have left while connected. Strict mode uses it to stop streams the server
 * will already have handed to someone else. Times are monotonic (performance.now()), so a
 * wall-clock step on the instance neither stops its streams early nor keeps them too long.
 */
export class LeaseWatchdog {
  readonly #onExpire: () => void;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;

  constructor(onExpire: () => void, now: () => number = () => performance.now()) {
    this.#onExpire = onExpire;
    this.#now = now;
  }

  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** (Re)schedules expiry at `lastSentAt + leaseTtlMs`; fires soon if that already passed. */
  arm(leaseTtlMs: number, lastSentAt: number): void {
    this.disarm();
    const delay = Math.max(0, lastSentAt + leaseTtlMs - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#onExpire();
    }, delay);
    // Only meaningful while the client runs; it must not keep a finished process alive.
    this.#timer.unref();
  }

  disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
