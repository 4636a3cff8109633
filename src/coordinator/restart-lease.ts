/**
 * The lease a shutting-down orchestrator promises every instance in its
 * go_away (RESTART_LEASE_MS), so that strict instances keep running through
 * a restart. It is recorded before it is promised, and the next process
 * honours the record (lease-rule.ts restoredUntil; README, "Why a stream never
 * runs on two strict instances"), then clears it once every such promise has
 * run out, so that a later crash waits only one lease again.
 */
import type { Logger } from "../log/logger.js";
import type { Clock, TimerHandle } from "./clock.js";
import { restoredUntil } from "./lease-rule.js";
import type { CoordinatorStore } from "./store-port.js";

/** @returns the extension that may be promised: recorded, or 0 when the database did not take it. */
export async function recordRestartLease(store: CoordinatorStore, ms: number, logger: Logger): Promise<number> {
  if (ms <= 0) return 0;
  try {
    await store.saveRestartLease(ms);
    return ms;
  } catch (error) {
    logger.warn({ err: error }, "could not record the restart lease; go_away promises none, strict instances stop at their lease");
    return 0;
  }
}

/** After a start that found `recordedMs`: clears the record once the promise and its margin are over. */
export function clearWhenHonoured(store: CoordinatorStore, clock: Clock, recordedMs: number, leaseTtlMs: number): TimerHandle | undefined {
  if (recordedMs <= 0) return undefined;
  // The very deadline the restart gave every instance it loaded (restoredUntil, counted from now).
  const now = clock.now();
  const honouredAt = restoredUntil(now, { leaseTtlMs, reconnectGraceMs: 0 }, recordedMs);
  return clock.after(honouredAt - now, () => void store.saveRestartLease(0).catch(() => undefined));
}
