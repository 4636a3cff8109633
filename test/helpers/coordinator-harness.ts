import { afterEach, beforeEach } from "node:test";
import { Coordinator } from "../../src/coordinator/coordinator.js";
import type { CoordinatorOptions } from "../../src/coordinator/coordinator-options.js";
import { MemoryStore } from "../../src/coordinator/memory-store.js";
import type { CoordinatorObserver } from "../../src/coordinator/observer.js";
import type { EndReason, GrantedStream, InstanceHello, InstanceMetrics, SessionHandle } from "../../src/coordinator/types.js";
import { createLogger } from "../../src/log/logger.js";
import { ManualClock } from "./manual-clock.js";
import { ownedStreams } from "./owned-streams.js";

/** What a fake instance was sent, in order. */
export type Sent =
  | { kind: "welcome"; heartbeatIntervalMs: number; leaseTtlMs: number }
  | { kind: "assignment"; seq: number; full: boolean; add: GrantedStream[]; remove: string[] }
  | { kind: "goAway"; reason: string; leaseExtensionMs: number };

/**
 * An instance session in memory: records what the coordinator sends, and
 * talks back by calling the coordinator directly. By default it heartbeats
 * at the welcome's interval and acknowledges every assignment once the
 * coordinator settles, like an instance that starts and stops instantly.
 */
export class FakeInstance implements SessionHandle {
  readonly sent: Sent[] = [];
  endedWith?: EndReason;
  autoAck = true;
  /** What its heartbeats report (the periodic ones included), like an instance's metrics callback. */
  metrics: InstanceMetrics | null = null;
  /** Heartbeat period, or undefined when silent. */
  beatEveryMs?: number;
  nextBeatAt = 0;
  private acked = 0;
  private static sessions = 0;
  readonly sessionId = `session-${++FakeInstance.sessions}`;

  constructor(
    private readonly harness: CoordinatorHarness,
    readonly id: string,
    readonly peer = `peer-of-${id}`,
  ) {}

  sendWelcome(w: { heartbeatIntervalMs: number; leaseTtlMs: number }): void {
    this.sent.push({ kind: "welcome", ...w });
  }
  sendAssignment(a: { seq: number; full: boolean; add: GrantedStream[]; remove: string[] }): void {
    this.sent.push({ kind: "assignment", ...a, add: [...a.add], remove: [...a.remove] });
  }
  sendGoAway(reason: string, _reconnectAfterMs: number, leaseExtensionMs: number): void {
    this.sent.push({ kind: "goAway", reason, leaseExtensionMs });
  }
  end(reason: EndReason): void {
    this.endedWith ??= reason;
    this.beatEveryMs = undefined;
  }

  get ended(): boolean {
    return this.endedWith !== undefined;
  }

  assignments(): Array<Extract<Sent, { kind: "assignment" }>> {
    return this.sent.flatMap((m) => (m.kind === "assignment" ? [m] : []));
  }

  /** Streams (and epochs) it should be running, from the assignments received. */
  owned(): Map<string, number> {
    return ownedStreams(this.assignments());
  }

  /** What it runs, as a hello's `held` would claim it on reconnect. */
  held(): InstanceHello["held"] {
    return [...this.owned()].map(([streamId, epoch]) => ({ streamId, epoch }));
  }

  /** Acknowledges everything received so far; true when there was something new. */
  ackAll(): boolean {
    const last = this.assignments().at(-1)?.seq ?? 0;
    if (last <= this.acked || this.ended) return false;
    this.ack(last);
    return true;
  }

  hello(capacity: number, more: Partial<InstanceHello> = {}): this {
    this.harness.coordinator.hello(this, { instanceId: this.id, capacity, held: [], labels: {}, version: "test", ...more });
    return this;
  }
  heartbeat(runningStreams = this.owned().size, metrics: InstanceMetrics | null = this.metrics): boolean {
    return this.harness.coordinator.heartbeat(this, this.id, runningStreams, metrics);
  }
  ack(seq: number): void {
    this.acked = Math.max(this.acked, seq);
    this.harness.coordinator.ack(this, this.id, seq);
  }
  leave(reason = "test", returnWithinMs = 0): void {
    this.harness.coordinator.leave(this, this.id, reason, returnWithinMs);
  }
  /** The connection breaks (no leave). */
  drop(cause = "connection lost"): void {
    this.beatEveryMs = undefined;
    this.endedWith ??= { kind: "shutdown" };
    this.harness.coordinator.disconnected(this, this.id, cause);
  }
  /** Stops heartbeating (the session stays open). */
  silence(): void {
    this.beatEveryMs = undefined;
  }
  beat(everyMs: number): void {
    this.beatEveryMs = everyMs;
    this.nextBeatAt = this.harness.clock.now() + everyMs;
  }
}

export const HARNESS_OPTIONS: CoordinatorOptions = {
  heartbeatIntervalMs: 1_000,
  leaseTtlMs: 3_000,
  suspectAfterMs: 1_500,
  reconnectGraceMs: 1_000,
  liveMovesPerSecond: 1_000,
  liveMovesBurst: 1_000,
  tickMs: 100,
  seenFlushMs: 1_000,
  seenPersistMs: 10_000,
};

/** A coordinator on a MemoryStore and a ManualClock, and the fake instances a test connects. */
export class CoordinatorHarness {
  readonly clock = new ManualClock();
  readonly store = new MemoryStore();
  readonly options: CoordinatorOptions;
  coordinator: Coordinator;
  readonly instances: FakeInstance[] = [];
  /** Whether the coordinator may act as the leader (a test turns it off to play a leader whose lease ran out). */
  acting = true;

  constructor(options: Partial<CoordinatorOptions> = {}, private readonly observer?: CoordinatorObserver) {
    this.options = { ...HARNESS_OPTIONS, ...options };
    this.coordinator = this.create();
  }

  private create(): Coordinator {
    return new Coordinator(this.store, this.options, createLogger({ level: "silent", format: "json" }), this.clock, this.observer, { mayAct: () => this.acting });
  }

  /** Puts `count` enabled streams s-000... in the catalog (before start, or tell the coordinator). */
  async addStreams(count: number, prefix = "s"): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
    await this.writeCatalog(ids.map((id) => ({ id, url: `http://radio.test/${id}`, name: id, metadata: {}, enabled: true })));
    return ids;
  }

  /** A catalog write, then the coordinator's reload, as the admin API does it. */
  async writeCatalog(changes: Parameters<MemoryStore["writeCatalog"]>[0]): Promise<void> {
    const ids = this.store.writeCatalog(changes);
    if (this.started) await this.coordinator.catalogChanged(ids);
  }

  private started = false;

  async start(): Promise<this> {
    await this.coordinator.start();
    this.started = true;
    await this.settle();
    return this;
  }

  /** An orchestrator restart on the same store: the old coordinator stops, a new one loads what was written. */
  async restart(): Promise<void> {
    await this.coordinator.stop();
    this.instances.splice(0);
    this.coordinator = this.create();
    await this.coordinator.start();
    await this.settle();
  }

  /** A new leader takes over on the same store: the old coordinator just stops acting (nothing more from it), the new one waits `takeoverMs` longer for owners. */
  async takeOver(takeoverMs: number): Promise<void> {
    this.coordinator.stepDown("");
    this.instances.splice(0);
    this.coordinator = this.create();
    await this.coordinator.start(takeoverMs);
    await this.settle();
  }

  /** The usual opening: `streams` in the catalog, the coordinator started, then `ids` connected in turn. */
  async startWith<const Ids extends string[]>(streams: number, ...ids: Ids): Promise<{ [K in keyof Ids]: FakeInstance }> {
    await this.addStreams(streams);
    await this.start();
    const connected: FakeInstance[] = [];
    for (const id of ids) connected.push(await this.connect(id));
    return connected as { [K in keyof Ids]: FakeInstance };
  }

  /**
   * Connects an instance that says hello and heartbeats at `beatEveryMs` (default: the interval).
   * With `autoAck: false` not even its full set is acknowledged: the test acks by hand.
   */
  async connect(
    id: string,
    capacity = 20,
    more: Partial<InstanceHello> & { beatEveryMs?: number | null; autoAck?: boolean } = {},
  ): Promise<FakeInstance> {
    const { beatEveryMs, autoAck = true, ...hello } = more;
    const instance = new FakeInstance(this, id);
    instance.autoAck = autoAck;
    this.instances.push(instance);
    instance.hello(capacity, hello);
    if (beatEveryMs !== null) instance.beat(beatEveryMs ?? this.options.heartbeatIntervalMs);
    await this.settle();
    return instance;
  }

  /** Waits for rounds and acknowledgements until nothing more happens. */
  async settle(): Promise<void> {
    for (let i = 0; i < 1_000; i++) {
      await this.coordinator.settled();
      await new Promise((resolve) => setImmediate(resolve));
      let acted = false;
      for (const instance of this.instances) if (instance.autoAck && instance.ackAll()) acted = true;
      if (!acted) {
        await this.coordinator.settled();
        return;
      }
    }
    throw new Error("the coordinator did not settle");
  }

  /** Lets `ms` pass: timers fire and instances heartbeat when due, each step settled. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    while (this.clock.now() < target) {
      const nextBeat = this.instances.reduce((min, i) => (i.beatEveryMs && !i.ended ? Math.min(min, i.nextBeatAt) : min), Number.POSITIVE_INFINITY);
      this.clock.runUntil(Math.min(target, nextBeat));
      for (const instance of this.instances) {
        if (!instance.beatEveryMs || instance.ended || instance.nextBeatAt > this.clock.now()) continue;
        instance.nextBeatAt += instance.beatEveryMs;
        instance.heartbeat();
      }
      await this.settle();
    }
  }

  /** Streams owned per instance id, from the coordinator's view. */
  ownedCounts(): Record<string, number> {
    return Object.fromEntries(this.coordinator.view.instancesById().map((i) => [i.id, this.coordinator.view.ownedBy(i.id).size]));
  }

  /** Kinds of the audit events recorded so far (in memory, written or not). */
  eventKinds(filter: (e: { kind: string; instanceId?: string }) => boolean = () => true): string[] {
    return this.coordinator.events.recent(1_000_000, filter).map((e) => e.kind);
  }

  async stop(): Promise<void> {
    await this.coordinator.stop();
  }
}

/** A fresh harness before each test of the calling describe, stopped after it. */
export function useHarness(options: Partial<CoordinatorOptions> = {}): { readonly h: CoordinatorHarness } {
  let harness: CoordinatorHarness | undefined;
  beforeEach(() => {
    harness = new CoordinatorHarness(options);
  });
  afterEach(async () => {
    await harness?.stop();
  });
  return {
    get h() {
      return harness!;
    },
  };
}
