/**
 * The settle window for placement: when many streams have no owner and
 * instances are arriving (an orchestrator starting on a fresh catalog, a fleet
 * coming up), placing them as each instance says hello fills the first ones to
 * capacity, and the rebalancing that follows moves most of it again. So, as
 * Kafka's group.initial.rebalance.delay.ms does, placement of that backlog
 * waits until arrivals pause for `settleMs`, and never longer than `maxMs`
 * after the window opened. Only the backlog waits: a stream added meanwhile or
 * the orphans of an instance that died are placed at once, and nothing owned
 * moves because of the window.
 */
export interface SettleTerms {
  /** Arrivals must pause this long before the backlog is placed (PLACEMENT_SETTLE_MS); 0 turns the window off. */
  settleMs: number;
  /** No stream of the backlog waits longer than this after the window opened (PLACEMENT_SETTLE_MAX_MS). */
  maxMs: number;
  /** The window opens only for a backlog at least this large (PLACEMENT_SETTLE_MIN_STREAMS). */
  minBacklog: number;
}

/** When a window opened at `openedAt`, with its last arrival at `lastArrival`, lets its backlog be placed. */
function settleEnd(openedAt: number, lastArrival: number, terms: Pick<SettleTerms, "settleMs" | "maxMs">): number {
  return Math.min(openedAt + terms.maxMs, lastArrival + terms.settleMs);
}

/**
 * `K` names a backlog stream. The coordinator uses stream ids, not index slots: a slot freed by a
 * deleted stream may be reused by a new one, which must not inherit the wait.
 */
export class PlacementSettle<K = number> {
  private openedAt: number | undefined;
  private lastArrival = 0;
  private backlog: ReadonlySet<K> = new Set();

  constructor(private readonly terms: SettleTerms) {}

  /**
   * An instance said hello at `now`. Opens the window when none is open and
   * `unplaced()` (the streams without an owner) is large enough; extends
   * an open one.
   * @returns true when a window opened.
   */
  arrival(now: number, unplaced: () => K[]): boolean {
    if (this.terms.settleMs <= 0) return false;
    if (this.openedAt !== undefined && now < this.end()) {
      this.lastArrival = now;
      return false;
    }
    const slots = unplaced();
    if (slots.length < Math.max(1, this.terms.minBacklog)) return false;
    this.openedAt = now;
    this.lastArrival = now;
    this.backlog = new Set(slots);
    return true;
  }

  /** The streams to leave out of a round at `now`; empty once the window is over. */
  heldBack(now: number): ReadonlySet<K> {
    if (this.openedAt === undefined) return this.backlog;
    if (now >= this.end()) this.close();
    return this.backlog;
  }

  /** heldBack(now), each key mapped by `as` (keys it maps to undefined are left out). */
  heldBackAs<S>(now: number, as: (key: K) => S | undefined): ReadonlySet<S> {
    const out = new Set<S>();
    for (const key of this.heldBack(now)) {
      const mapped = as(key);
      if (mapped !== undefined) out.add(mapped);
    }
    return out;
  }

  /** True (once) when an open window ended by `now`: a round must place the backlog. */
  closeIfDue(now: number): boolean {
    if (this.openedAt === undefined || now < this.end()) return false;
    this.close();
    return true;
  }

  private end(): number {
    return settleEnd(this.openedAt!, this.lastArrival, this.terms);
  }

  private close(): void {
    this.openedAt = undefined;
    this.backlog = new Set();
  }
}
