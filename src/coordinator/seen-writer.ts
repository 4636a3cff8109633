import type { Logger } from "../log/logger.js";
import type { Clock } from "./clock.js";
import type { Fleet } from "./fleet.js";
import type { CoordinatorObserver } from "./observer.js";
import type { CoordinatorStore, SeenWrite } from "./store-port.js";

/** What the last-seen writer needs from the coordinator that owns it. */
export interface SeenWriterDeps {
  store: CoordinatorStore;
  fleet: Fleet;
  clock: Clock;
  observer: CoordinatorObserver;
  logger: Logger;
  /** How stale an instance's written last-seen and metrics may get; spreads the writes over time. */
  staleAfterMs: number;
}

/**
 * Writes last-seen and metrics of instances whose written copy is older than
 * `staleAfterMs` (all of them on shutdown). Leases live in memory; the
 * database copy is for operators and restarts, so a few seconds of staleness
 * buys a steady trickle of writes instead of one burst per heartbeat interval.
 */
export class SeenWriter {
  constructor(private readonly deps: SeenWriterDeps) {}

  async flush(all = false): Promise<void> {
    const { fleet, clock } = this.deps;
    const now = clock.now();
    // Monotonic to wall clock, once per flush: lastSeen + offset is when people would say it was.
    const wallOffset = clock.wallNow() - now;
    const staleAfter = all ? 0 : this.deps.staleAfterMs;
    const taken = [];
    const seen: SeenWrite[] = [];
    for (const instance of fleet.instances()) {
      const write = instance.takeSeen(now, staleAfter, wallOffset);
      if (!write) continue;
      taken.push(instance);
      seen.push(write);
    }
    if (!seen.length) return;
    try {
      await this.deps.store.writeSeen(seen);
      for (const instance of taken) instance.seenWritten(now);
    } catch (error) {
      for (const instance of taken) instance.seenUnwritten();
      this.deps.observer.databaseError("last_seen_flush");
      this.deps.logger.warn({ err: error }, "last-seen flush failed; will retry");
    }
  }
}
