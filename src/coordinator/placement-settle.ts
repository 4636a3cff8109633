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
 *
 * When the operator says how many instances the whole fleet has
 * (`expectedInstances`, as Elasticsearch's gateway.expected_data_nodes does),
 * the window need not guess from pauses: each arrival lets its own share of the
 * backlog be placed at once (with n of N expected present, n/N of the backlog:
 * on equal capacities each present instance gets the share it keeps once all
 * are up, so nothing placed early has to move), and the window closes the
 * moment all N are present, or at `maxMs` if some never come.
 */
export interface SettleTerms {
  /** Arrivals must pause this long before the backlog is placed (PLACEMENT_SETTLE_MS); 0 turns the window off. */
  settleMs: number;
  /** No stream of the backlog waits longer than this after the window opened (PLACEMENT_SETTLE_MAX_MS). */
  maxMs: number;
  /** The window opens only for a backlog at least this large (PLACEMENT_SETTLE_MIN_STREAMS). */
  minBacklog: number;
  /** How many instances the whole fleet has (PLACEMENT_EXPECTED_INSTANCES); 0 or absent when unknown. */
  expectedInstances?: number;
}

/**
 * `K` names a backlog stream. The coordinator uses stream ids, not index slots: a slot freed by a
 * deleted stream may be reused by a new one, which must not inherit the wait.
 * `present()` counts the instances that can take streams now (connected, not draining); it is
 * asked only while a window is open, so a fleet with none pays nothing for it on the tick.
 */
export class PlacementSettle<K = number> {
  private openedAt: number | undefined;
  private lastArrival = 0;
  /** In the order the window found it: an expected fleet's arrivals release it front first. */
  private backlog: readonly K[] = [];
  private held: { present: number; keys: ReadonlySet<K> } = { present: -1, keys: new Set() };

  constructor(
    private readonly terms: SettleTerms,
    private readonly present: () => number = () => 0,
  ) {}

  /** PLACEMENT_EXPECTED_INSTANCES; 0 when unknown. */
  get expected(): number {
    return this.terms.expectedInstances ?? 0;
  }

  /**
   * An instance said hello at `now`. Opens the window when none is open and
   * `unplaced()` (the streams without an owner) is large enough; extends
   * an open one.
   * @returns true when a window opened.
   */
  arrival(now: number, unplaced: () => K[]): boolean {
    if (this.terms.settleMs <= 0) return false;
    if (this.openedAt !== undefined && !this.due(now)) {
      this.lastArrival = now;
      return false;
    }
    this.close();
    // The whole fleet is here already: nothing to wait for.
    if (this.expected > 0 && this.present() >= this.expected) return false;
    const slots = unplaced();
    if (slots.length < Math.max(1, this.terms.minBacklog)) return false;
    this.openedAt = now;
    this.lastArrival = now;
    this.backlog = slots;
    return true;
  }

  /** The streams to leave out of a round at `now`; empty once the window is over. */
  heldBack(now: number): ReadonlySet<K> {
    if (this.openedAt !== undefined && this.due(now)) this.close();
    if (this.openedAt === undefined) return this.held.keys;
    const present = this.present();
    if (this.held.present !== present) {
      // n of N present: the first n/N of the backlog may be placed, the rest waits.
      const released = this.expected > 0 ? Math.round((this.backlog.length * Math.min(present, this.expected)) / this.expected) : 0;
      this.held = { present, keys: new Set(this.backlog.slice(released)) };
    }
    return this.held.keys;
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
    if (this.openedAt === undefined || !this.due(now)) return false;
    this.close();
    return true;
  }

  /** Whether the open window is over: its time is up, or the expected fleet is all here. */
  private due(now: number): boolean {
    const openedAt = this.openedAt!;
    if (now >= openedAt + this.terms.maxMs) return true;
    // An expected fleet ends the window by arriving, not by pausing: a pause only means some are late.
    if (this.expected > 0) return this.present() >= this.expected;
    return now >= this.lastArrival + this.terms.settleMs;
  }

  private close(): void {
    this.openedAt = undefined;
    this.backlog = [];
    this.held = { present: -1, keys: new Set() };
  }
}
