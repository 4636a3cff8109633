import type { Logger } from "../log/logger.js";
import { monotonicOf, type Clock } from "./clock.js";
import type { CoordinatorObserver } from "./observer.js";
import type { CoordinatorStore, FreezeRecord } from "./store-port.js";
import type { Audit } from "./types.js";

/** What a freeze needs from the coordinator that owns it. */
export interface FreezeDeps {
  store: CoordinatorStore;
  clock: Clock;
  observer: CoordinatorObserver;
  logger: Logger;
  audit: Audit;
  requestRound(): void;
}

/** A freeze in force, as readers see it: until when (wall clock; null until lifted) and why. */
export interface FreezeInfo {
  until: Date | null;
  reason: string;
}

/**
 * Stops moves between live instances, until lifted or for a while. Its end
 * is kept twice: on the monotonic clock, which decides when it ends (a
 * wall-clock step neither shortens nor lengthens it), and on the wall clock,
 * which is what operators read and what survives a restart. It is written
 * before it takes effect, and lifted in memory only once the lift is written.
 * Expiry runs one lift at a time: a tick while one is being written waits.
 */
export class RebalancingFreeze {
  private state?: { endsAt: number | null; info: FreezeInfo };
  private expiring = false;

  constructor(private readonly deps: FreezeDeps) {}

  get frozen(): boolean {
    return this.state !== undefined;
  }

  get info(): FreezeInfo | undefined {
    return this.state?.info;
  }

  /** The freeze read back at start-up. */
  restore(record: FreezeRecord | null): void {
    if (!record) return;
    const endsAt = record.until ? monotonicOf(this.deps.clock, record.until.getTime()) : null;
    this.state = { endsAt, info: { until: record.until, reason: record.reason } };
  }

  async freeze(durationMs: number | null, reason: string): Promise<FreezeInfo> {
    const { clock } = this.deps;
    const info = { until: durationMs === null ? null : new Date(clock.wallNow() + durationMs), reason };
    const endsAt = durationMs === null ? null : clock.now() + durationMs;
    await this.deps.store.saveFreeze(info);
    this.state = { endsAt, info };
    this.deps.audit({ kind: "rebalancing.frozen", detail: { until: info.until?.toISOString() ?? null, reason }, at: new Date(clock.wallNow()) });
    return info;
  }

  /** Lifts the freeze; true when one was in force (and this call lifted it). */
  async lift(reason = "lifted by operator"): Promise<boolean> {
    await this.deps.store.saveFreeze(null);
    // Read after the write: of two lifts racing, only one finds a freeze to lift.
    const was = this.state !== undefined;
    this.state = undefined;
    if (was) {
      this.deps.audit({ kind: "rebalancing.unfrozen", detail: { reason }, at: new Date(this.deps.clock.wallNow()) });
      this.deps.requestRound();
    }
    return was;
  }

  /** Called from the coordinator's tick: ends a freeze whose time is up, one lift at a time. */
  expireIfDue(now: number): void {
    const endsAt = this.state?.endsAt;
    if (endsAt == null || now < endsAt || this.expiring) return;
    this.expiring = true;
    this.lift("freeze period ended")
      .catch((error: unknown) => {
        // Still frozen in memory and in the table; the next tick tries again.
        this.deps.observer.databaseError("freeze");
        this.deps.logger.warn({ err: error }, "could not end the rebalancing freeze; will retry");
      })
      .finally(() => (this.expiring = false));
  }
}
