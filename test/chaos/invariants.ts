/**
 * The chaos suite's rules, checked while the run goes and at its end:
 * - no stream runs on two strict instances at once (the run log sees every start);
 * - no stream stays unplaced longer than lease + 2 s, outages of the control plane
 *   (orchestrator restarting, database down or frozen) not counted;
 * - instances back within their lease after an orchestrator restart keep what
 *   they held, with nothing moved;
 * - the fleet ends balanced (±1, equal capacities) once the faults stop.
 * The fleet is sized so that some instance always has room (see FaultInjector).
 */
import type { ChaosFleet } from "./chaos-fleet.js";
import type { Outage } from "./fault-injector.js";
import type { Timeline } from "./timeline.js";

/** Milliseconds of [from, to] that fall inside an outage. */
function outageWithin(outages: readonly Outage[], from: number, to: number): number {
  let total = 0;
  for (const o of outages) total += Math.max(0, Math.min(to, o.to ?? to) - Math.max(from, o.from));
  return total;
}

export class Invariants {
  /** The longest a stream waited for an owner, outages not counted. */
  worstUnplacedMs = 0;
  private readonly unplacedSince = new Map<string, number>();
  private readonly reported = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly checks: Array<Promise<void>> = [];

  constructor(
    private readonly streams: readonly string[],
    private readonly fleet: ChaosFleet,
    private readonly outages: readonly Outage[],
    private readonly timeline: Timeline,
    private readonly leaseMs: number,
  ) {}

  private placed(): Set<string> {
    const placed = new Set(this.fleet.runs.runningOn.keys());
    for (const raw of this.fleet.raw) for (const id of raw.session?.owned().keys() ?? []) placed.add(id);
    return placed;
  }

  /** Samples placement every 100 ms. */
  start(): void {
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    const now = performance.now();
    const placed = this.placed();
    const limit = this.leaseMs + 2_000;
    for (const id of this.streams) {
      const since = this.unplacedSince.get(id);
      if (placed.has(id)) {
        if (since !== undefined) this.unplacedSince.delete(id);
        this.reported.delete(id);
        continue;
      }
      if (since === undefined) {
        this.unplacedSince.set(id, now);
        continue;
      }
      const waited = now - since - outageWithin(this.outages, since, now);
      this.worstUnplacedMs = Math.max(this.worstUnplacedMs, waited);
      if (waited > limit && !this.reported.has(id)) {
        this.reported.add(id);
        this.timeline.violation("stream unplaced too long", { stream: id, waitedMs: Math.round(waited), limitMs: limit });
      }
    }
  }

  /**
   * After an orchestrator restart: once a lease (and a little) has passed, every
   * instance that did not lose its lease meanwhile still runs what it ran at the kill.
   */
  orchestratorRestarted(killedAt: number, servingAt: number, before: Map<string, Set<string>>): Promise<void> {
    const check = new Promise<void>((resolve) => setTimeout(resolve, this.leaseMs + 1_500)).then(() => {
        const now = performance.now();
        let kept = 0;
        for (const [id, held] of before) {
          const instance = this.fleet.instances.find((i) => i.id === id);
          if (!instance || instance.dead || instance.lostLeaseBetween(killedAt, now)) continue;
          const running = instance.client?.running() ?? new Map();
          const lost = [...held].filter((s) => !running.has(s));
          kept += held.size - lost.length;
          if (lost.length) this.timeline.violation("assignment lost across an orchestrator restart", { instance: id, lost });
        }
        this.timeline.note("restart check", { kept, servedAfterMs: Math.round(servingAt - killedAt) });
      });
    this.checks.push(check);
    return check;
  }

  /** Waits for every pending check. */
  async settle(): Promise<void> {
    await Promise.all(this.checks);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Every stream placed and every live instance within one of the others; @returns whether it got there in `timeoutMs`. */
  async balanced(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const counts = [...this.fleet.counts().values()];
      const ok = this.placed().size === this.streams.length && Math.max(...counts) - Math.min(...counts) <= 1;
      if (ok) return true;
      if (performance.now() > deadline) {
        this.timeline.violation("not balanced after the faults stopped", { counts: Object.fromEntries(this.fleet.counts()), placed: this.placed().size });
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
