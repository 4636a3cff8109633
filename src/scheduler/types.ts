/**
 * Compact scheduler input. Instances and streams are interned to dense integer
 * indices by the caller so a round is a handful of linear passes over typed arrays.
 *
 * An instance counts as eligible only when it is also live: an eligible flag on a
 * non-live instance is ignored, because nothing it owns is running.
 */
export interface PlanInput {
  /** Per instance index: the most streams it may hold. Hard limit, also for draining instances. */
  readonly capacity: Uint32Array;
  /** Per instance index: non-zero when the instance may receive streams (connected and not draining). */
  readonly eligible: Uint8Array;
  /**
   * Per instance index: non-zero when the instance still runs what it owns (connected, or draining).
   * Streams owned by a non-live instance are orphans and are placed at once.
   */
  readonly live: Uint8Array;
  /** Per stream index: current owner instance index, or -1. Only enabled catalog streams are passed. */
  readonly owner: Int32Array;
  /**
   * Upper bound on streams taken away from live owners to rebalance or drain this round
   * (0 freezes them; Infinity means unlimited). Orphans, unassigned streams and streams
   * above their owner's capacity are not limited.
   */
  readonly maxLiveMoves: number;
}

/** Counts describing one round. Every stream falls in exactly one of kept, placed, moved, revoked, or stays unassigned. */
export interface PlanStats {
  /** Streams whose target equals their live owner. */
  kept: number;
  /** Orphans (non-live owner) and unassigned streams that received an instance. */
  placed: number;
  /** Streams taken from a live owner and given to another instance. */
  moved: number;
  /** Streams taken from a live owner that found no free slot (capacity exhausted). */
  revoked: number;
  /** Streams whose target is -1. */
  unassigned: number;
  /** Rebalancing or draining moves wanted but skipped because of maxLiveMoves. */
  deferred: number;
  /** Rebalancing or draining moves performed; counted against maxLiveMoves. */
  liveMoves: number;
  /** Streams taken from a live owner holding more than its capacity; not counted against maxLiveMoves. */
  overCapacity: number;
}

export interface PlanResult {
  /** Per stream index: new owner, or -1 when total eligible capacity is exhausted. */
  readonly target: Int32Array;
  /** Per instance index: capacity-weighted fair share computed this round (0 when not eligible). */
  readonly quota: Uint32Array;
  /** Per instance index: number of streams targeted to it. */
  readonly load: Uint32Array;
  /** Stream indices with target[i] !== owner[i], ascending. */
  readonly changed: Int32Array;
  readonly stats: PlanStats;
}
