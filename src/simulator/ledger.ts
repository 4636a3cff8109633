import type { CoverageMeter } from "./coverage.js";

/**
 * Where a virtual instance stands, as far as trusting what it runs goes:
 * - `connecting`: no session in sync yet (just started, or reconnecting after a fault);
 * - `up`: welcomed and its last full assignment applied; what it runs is what the orchestrator thinks;
 * - `leaving`: `close()` in progress (stops everything, then sends leave);
 * - `partitioned`: cut off; may still run streams the orchestrator has given away;
 * - `down`: crashed and waiting to restart, its streams kept for the hello's held list;
 * - `dead`: crashed for good; its streams vanished with it;
 * - `left`: closed gracefully.
 */
export type InstanceState = "connecting" | "up" | "leaving" | "partitioned" | "down" | "dead" | "left";

/** Instances whose running set the orchestrator vouches for: two of them must never share a stream. */
export function isTrusted(state: InstanceState): boolean {
  return state === "up" || state === "leaving";
}

/** Two trusted instances running the same stream at once. */
export interface Violation {
  /** ms on the ledger's clock. */
  at: number;
  streamId: string;
  /** The instance whose start (or return to `up`) made it a double. */
  instanceId: string;
  /** The trusted instance that was already running it. */
  otherId: string;
}

/** Told whenever a stream is (again) running on an `up` instance. */
export type ServedListener = (streamId: string, instanceId: string, at: number) => void;

interface InstanceRecord {
  capacity: number;
  state: InstanceState;
  running: Set<string>;
}

/**
 * Who runs what, across every virtual instance, as their start and stop handlers report it.
 * A stream may run on several instances at once (a partitioned one still runs what it had);
 * that is a violation only when two trusted instances run it, checked at the two moments it
 * can arise: a trusted instance starts a stream, or an instance becomes `up` with its set.
 */
export class OwnershipLedger {
  readonly violations: Violation[] = [];
  readonly #clock: () => number;
  readonly #instances = new Map<string, InstanceRecord>();
  readonly #owners = new Map<string, Set<string>>();
  /** Who started each stream last, to tell a move from a first placement. */
  readonly #lastStartedOn = new Map<string, string>();
  readonly #served: ServedListener[] = [];
  #moves = 0;

  /** Told every start and stop and each instance's life, when the simulation measures coverage. */
  #meter: CoverageMeter | undefined;

  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
  }

  /**
   * From now on, starts, stops, instances coming and going are also reported to `meter`; what
   * runs already is reported as started at `since` (before the meter's window: counted as warm).
   */
  attach(meter: CoverageMeter, since: number): void {
    this.#meter = meter;
    const at = since;
    for (const [id, record] of this.#instances) {
      if (record.state === "dead" || record.state === "left") continue;
      meter.up(id, record.capacity, at);
      for (const streamId of record.running) meter.started(id, streamId, at);
    }
  }

  /** Streams started on an instance other than the one that ran them before. */
  get moves(): number {
    return this.#moves;
  }

  onServed(listener: ServedListener): void {
    this.#served.push(listener);
  }

  /** Adds an instance, `connecting` and running nothing. */
  register(instanceId: string, capacity: number): void {
    this.#instances.set(instanceId, { capacity, state: "connecting", running: new Set() });
    this.#meter?.up(instanceId, capacity, this.#clock());
  }

  state(instanceId: string): InstanceState | undefined {
    return this.#instances.get(instanceId)?.state;
  }

  setState(instanceId: string, state: InstanceState): void {
    const record = this.#instances.get(instanceId);
    if (!record || record.state === state) return;
    record.state = state;
    // A worker that left stops being one: its streams stopped with its close().
    if (state === "left") this.#meter?.down(instanceId, this.#clock());
    if (state !== "up") return;
    const at = this.#clock();
    for (const streamId of record.running) this.#checkDouble(streamId, instanceId, at);
    for (const streamId of record.running) this.#notifyServed(streamId, instanceId, at);
  }

  started(instanceId: string, streamId: string): void {
    const record = this.#instances.get(instanceId);
    if (!record || record.state === "dead") return;
    record.running.add(streamId);
    this.#meter?.started(instanceId, streamId, this.#clock());
    let owners = this.#owners.get(streamId);
    if (!owners) this.#owners.set(streamId, (owners = new Set()));
    owners.add(instanceId);
    const previous = this.#lastStartedOn.get(streamId);
    if (previous !== undefined && previous !== instanceId) this.#moves += 1;
    this.#lastStartedOn.set(streamId, instanceId);
    if (!isTrusted(record.state)) return;
    const at = this.#clock();
    this.#checkDouble(streamId, instanceId, at);
    if (record.state === "up") this.#notifyServed(streamId, instanceId, at);
  }

  stopped(instanceId: string, streamId: string): void {
    const record = this.#instances.get(instanceId);
    if (!record || record.state === "dead") return;
    record.running.delete(streamId);
    this.#meter?.stopped(instanceId, streamId, this.#clock());
    const owners = this.#owners.get(streamId);
    owners?.delete(instanceId);
    if (owners?.size === 0) this.#owners.delete(streamId);
  }

  /** The instance crashed: everything it ran is gone, and it reports nothing any more. */
  forget(instanceId: string): void {
    const record = this.#instances.get(instanceId);
    if (!record) return;
    // The process is gone: its streams stop with it (a forced stop, in coverage terms).
    this.#meter?.down(instanceId, this.#clock());
    for (const streamId of [...record.running]) this.stopped(instanceId, streamId);
    record.state = "dead";
  }

  /** A snapshot of what an instance runs. */
  runningOn(instanceId: string): string[] {
    return [...(this.#instances.get(instanceId)?.running ?? [])];
  }

  /** The `up` instances running a stream now. */
  upOwners(streamId: string): string[] {
    return [...(this.#owners.get(streamId) ?? [])].filter((id) => this.#instances.get(id)?.state === "up");
  }

  /** Distinct streams running on at least one `up` instance. */
  servedCount(): number {
    let served = 0;
    for (const owners of this.#owners.values()) {
      for (const id of owners) {
        if (this.#instances.get(id)?.state === "up") {
          served += 1;
          break;
        }
      }
    }
    return served;
  }

  /** Instances by state. */
  countByState(): Record<InstanceState, number> {
    const counts: Record<InstanceState, number> = { connecting: 0, up: 0, leaving: 0, partitioned: 0, down: 0, dead: 0, left: 0 };
    for (const record of this.#instances.values()) counts[record.state] += 1;
    return counts;
  }

  /** Running count and capacity of every `up` instance, for balance figures. */
  upLoads(): Array<{ running: number; capacity: number }> {
    return [...this.#instances.values()]
      .filter((r) => r.state === "up")
      .map((r) => ({ running: r.running.size, capacity: r.capacity }));
  }

  #checkDouble(streamId: string, instanceId: string, at: number): void {
    for (const otherId of this.#owners.get(streamId) ?? []) {
      if (otherId === instanceId) continue;
      const other = this.#instances.get(otherId);
      if (other && isTrusted(other.state)) this.violations.push({ at, streamId, instanceId, otherId });
    }
  }

  #notifyServed(streamId: string, instanceId: string, at: number): void {
    for (const listener of this.#served) listener(streamId, instanceId, at);
  }
}
