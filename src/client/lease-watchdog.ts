/**
 * Fires at the moment strict mode must stop its streams: when the lease runs out (`leaseTtlMs`
 * after the last heartbeat the server acknowledged was sent, or later when a restarting
 * orchestrator promised more). The server moves nothing before then, connected or not
 * (src/coordinator/lease-rule.ts). Times are monotonic (performance.now()), so a wall-clock
 * step on the instance neither stops its streams early nor keeps them too long.
 */
export class LeaseWatchdog {
  readonly #onExpire: () => void;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #deadline: number | undefined;

  constructor(onExpire: () => void, now: () => number = () => performance.now()) {
    this.#onExpire = onExpire;
    this.#now = now;
  }

  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** When it fires (monotonic), if armed. */
  get deadline(): number | undefined {
    return this.#deadline;
  }

  /** (Re)schedules expiry at `deadline` (monotonic); fires soon if that already passed. */
  armAt(deadline: number): void {
    this.disarm();
    this.#deadline = deadline;
    const delay = Math.max(0, deadline - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#deadline = undefined;
      this.#onExpire();
    }, delay);
    // Only meaningful while the client runs; it must not keep a finished process alive.
    this.#timer.unref();
  }

  disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#deadline = undefined;
  }
}
