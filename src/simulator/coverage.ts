/**
 * Coverage: what a planned event or a fault costs the users, counted as monitoring time.
 * Every stream start costs a warm-up (the identification window) before a song can be named,
 * so the meter counts, over a measurement window:
 * - starts, and the extra starts beyond those no orchestrator could avoid (a stream's first
 *   start, and one restart each time the worker process running it stopped);
 * - unmonitored stream-seconds: a stream with no running owner while some live instance had
 *   room, with and without the warm-up after each start in the window counted as unmonitored
 *   too (a stream already running when the window opens counts as warm);
 * - double-monitored stream-seconds: two instances running the stream at once;
 * - the ceiling a perfect orchestrator could reach with the warm-up counted: one that reacts
 *   at once and never moves a stream it need not, so that each unavoidable start costs one
 *   warm-up and nothing else.
 * Times are milliseconds on any one monotonic clock; the meter is told every change as it
 * happens and does its arithmetic in {@link CoverageMeter.report}.
 */
import { measure, MeasureIndex, union, type Interval } from "./intervals.js";

export interface CoverageReport {
  streams: number;
  windowMs: number;
  starts: number;
  /** Starts beyond each stream's unavoidable ones (see the file comment). */
  extraStarts: number;
  /** Starts on an instance other than the one that ran the stream last. */
  moves: number;
  /** Streams stopped because the worker process running them stopped (crash, restart). */
  forcedStops: number;
  unmonitoredMs: number;
  unmonitoredWarmMs: number;
  doubleMs: number;
  /** 1 - unmonitored / (streams x window), without and with the warm-up counted. */
  monitored: number;
  monitoredWarm: number;
  /** What a perfect orchestrator reaches with the warm-up counted, in this same run. */
  ceilingWarm: number;
}

interface Worker {
  capacity: number;
  alive: boolean;
  running: Set<string>;
}

interface StreamRecord {
  /** Finished runs; `open` holds the ones still going (instance -> since). */
  intervals: Interval[];
  open: Map<string, number>;
  lastOn: string | undefined;
  startsAt: number[];
  movesAt: number[];
  /** When its running worker process stopped under it. */
  forcedAt: number[];
  /** When its first start became possible (room appeared), once it has started. */
  firstAllowedAt: number | undefined;
}

export class CoverageMeter {
  readonly #warmUpMs: number;
  readonly #streams = new Map<string, StreamRecord>();
  readonly #workers = new Map<string, Worker>();
  /** Instances alive with room; `roomSince` is set while there is at least one. */
  #roomy = 0;
  #roomSince: number | undefined;
  readonly #room: Interval[] = [];
  #begin: number | undefined;
  /** When anything last started or stopped (for "quiet" and "balanced since"). */
  lastChangeAt = 0;

  constructor(streamIds: Iterable<string>, warmUpMs: number) {
    this.#warmUpMs = warmUpMs;
    for (const id of streamIds) this.#streams.set(id, { intervals: [], open: new Map(), lastOn: undefined, startsAt: [], movesAt: [], forcedAt: [], firstAllowedAt: undefined });
  }

  /** Where the measurement window starts: what happened before only matters for what it left running. */
  begin(at: number): void {
    this.#begin = at;
  }

  /** A worker process is up (a new one, or the same id after a restart) with nothing running. */
  up(instanceId: string, capacity: number, at: number): void {
    const w = this.#workers.get(instanceId);
    if (w?.alive) throw new Error(`coverage: ${instanceId} is already up`);
    this.#workers.set(instanceId, { capacity, alive: true, running: new Set() });
    if (capacity > 0) this.#roomChange(+1, at);
  }

  /** The worker process stopped: whatever it ran stops now, and each such stop was forced on the stream. */
  down(instanceId: string, at: number): void {
    const w = this.#workers.get(instanceId);
    if (!w?.alive) return;
    for (const streamId of [...w.running]) {
      this.stopped(instanceId, streamId, at);
      this.#streams.get(streamId)?.forcedAt.push(at);
    }
    w.alive = false;
    if (w.capacity > 0) this.#roomChange(-1, at);
  }

  started(instanceId: string, streamId: string, at: number): void {
    const w = this.#workers.get(instanceId);
    const s = this.#streams.get(streamId);
    if (!w?.alive || !s || w.running.has(streamId)) return;
    // A first start is unavoidable; a perfect orchestrator makes it the moment there is room.
    s.firstAllowedAt ??= this.#roomSince ?? at;
    const hadRoom = w.running.size < w.capacity;
    w.running.add(streamId);
    if (hadRoom && w.running.size >= w.capacity) this.#roomChange(-1, at);
    s.open.set(instanceId, at);
    s.startsAt.push(at);
    if (s.lastOn !== undefined && s.lastOn !== instanceId) s.movesAt.push(at);
    s.lastOn = instanceId;
    this.lastChangeAt = at;
  }

  stopped(instanceId: string, streamId: string, at: number): void {
    const w = this.#workers.get(instanceId);
    const s = this.#streams.get(streamId);
    if (!w?.alive || !s || !w.running.delete(streamId)) return;
    if (w.running.size === w.capacity - 1) this.#roomChange(+1, at);
    const since = s.open.get(instanceId);
    s.open.delete(instanceId);
    if (since !== undefined) s.intervals.push([since, at]);
    this.lastChangeAt = at;
  }

  /** Streams each live instance runs now. */
  runningCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, w] of this.#workers) if (w.alive) out.set(id, w.running.size);
    return out;
  }

  /** Streams with no running owner, and streams with more than one. */
  placement(): { unplaced: number; doubled: number } {
    let unplaced = 0;
    let doubled = 0;
    for (const s of this.#streams.values()) {
      if (s.open.size === 0) unplaced++;
      else if (s.open.size > 1) doubled++;
    }
    return { unplaced, doubled };
  }

  /** Sums up [from, at]: by default the whole window since {@link begin}; a part of it for a breakdown. */
  report(at: number, from = this.#begin ?? 0): CoverageReport {
    const begin = from;
    const inside = (t: number): boolean => t >= begin && t <= at;
    const clip = (list: readonly Interval[]): Interval[] => union(list.map(([a, b]): Interval => [Math.max(a, begin), Math.min(b, at)]));
    const room = new MeasureIndex(clip([...this.#room, ...(this.#roomSince !== undefined ? [[this.#roomSince, at] as Interval] : [])]));
    const roomInWindow = room.within(begin, at);
    const sum = { starts: 0, extra: 0, moves: 0, forced: 0, unmonitored: 0, unmonitoredWarm: 0, double: 0, ceilingLoss: 0 };
    for (const s of this.#streams.values()) {
      const ran: Interval[] = [...s.intervals, ...[...s.open.values()].map((since): Interval => [since, at])];
      const clipped = ran.map(([a, b]): Interval => [Math.max(a, begin), Math.min(b, at)]);
      const covered = union(clipped);
      sum.unmonitored += roomInWindow - room.withinAll(covered);
      // Only starts inside the window owe a warm-up: what ran before it counts as warm, so that a
      // window opened on a freshly balanced fleet measures the event, not the fleet's own start.
      sum.unmonitoredWarm += roomInWindow - room.withinAll(clip(ran.map(([a, b]): Interval => [a >= begin ? a + this.#warmUpMs : a, b])));
      sum.double += measure(clipped.filter(([a, b]) => b > a)) - measure(covered);
      const starts = s.startsAt.filter(inside).length;
      const allowed = s.forcedAt.filter(inside);
      if (s.firstAllowedAt !== undefined && inside(s.firstAllowedAt)) allowed.push(s.firstAllowedAt);
      sum.starts += starts;
      sum.moves += s.movesAt.filter(inside).length;
      sum.forced += s.forcedAt.filter(inside).length;
      sum.extra += Math.max(0, starts - allowed.length);
      // The perfect orchestrator pays one warm-up per unavoidable start, and nothing else
      // (two such starts within a warm-up of each other cost the time they cover together).
      sum.ceilingLoss += measure(clip(allowed.map((t): Interval => [t, t + this.#warmUpMs])));
    }
    const total = this.#streams.size * (at - begin);
    const share = (lost: number): number => (total > 0 ? 1 - lost / total : 1);
    return {
      streams: this.#streams.size,
      windowMs: at - begin,
      starts: sum.starts,
      extraStarts: sum.extra,
      moves: sum.moves,
      forcedStops: sum.forced,
      unmonitoredMs: sum.unmonitored,
      unmonitoredWarmMs: sum.unmonitoredWarm,
      doubleMs: sum.double,
      monitored: share(sum.unmonitored),
      monitoredWarm: share(sum.unmonitoredWarm),
      ceilingWarm: share(sum.ceilingLoss),
    };
  }

  #roomChange(delta: number, at: number): void {
    const before = this.#roomy;
    this.#roomy += delta;
    if (before === 0 && this.#roomy > 0) this.#roomSince = at;
    else if (before > 0 && this.#roomy === 0 && this.#roomSince !== undefined) {
      if (at > this.#roomSince) this.#room.push([this.#roomSince, at]);
      this.#roomSince = undefined;
    }
  }
}
