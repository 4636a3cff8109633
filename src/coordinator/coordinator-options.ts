import type { SettleTerms } from "./placement-settle.js";

/** Timing and rate settings of the coordinator (from configuration). */
export interface CoordinatorOptions {
  heartbeatIntervalMs: number;
  leaseTtlMs: number;
  /**
   * Silence after which a connected instance is suspect: rounds leave it out,
   * so it keeps what it runs but is given nothing new until it is heard from
   * again (or its lease expires). Longer than a heartbeat, at most the lease.
   */
  suspectAfterMs: number;
  reconnectGraceMs: number;
  liveMovesPerSecond: number;
  liveMovesBurst: number;
  /** How long a stream runs before it names songs (the users' identification window): moving one that ran longer costs that again; default 15000. */
  warmUpMs?: number;
  /** The settle window for placing a large backlog while instances arrive (placement-settle.ts); settleMs 0 turns it off. */
  placementSettle?: SettleTerms;
  /**
   * The lease a shutting-down orchestrator promises in its go_away (RESTART_LEASE_MS), so
   * that strict instances keep running through its restart; 0 promises nothing.
   */
  restartLeaseMs?: number;
  /** The longest a restarting instance may keep its streams unrun (a leave with return_within_ms); default 120000. */
  maxReturnWithinMs?: number;
  /** How often leases and grace periods are checked. */
  tickMs?: number;
  /** How often last-seen bookkeeping is written, batched. */
  seenFlushMs?: number;
  /** How stale an instance's persisted last-seen and metrics may get; spreads the writes over time. */
  seenPersistMs?: number;
}

/** Instances not heard from since this (monotonic) time are suspect at `now`. */
export function suspectCutoff(now: number, options: Pick<CoordinatorOptions, "suspectAfterMs">): number {
  return now - options.suspectAfterMs;
}
