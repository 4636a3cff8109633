import type { Logger } from "../log/logger.js";
import { CatalogReloader } from "./catalog-reloader.js";
import { systemClock, wallTimeOf, type Clock, type TimerHandle } from "./clock.js";
import { restoreFleet } from "./fleet-restore.js";
import { suspectCutoff, type CoordinatorOptions } from "./coordinator-options.js";
import { clearWhenHonoured, recordRestartLease } from "./restart-lease.js";
import { PlacementSettle } from "./placement-settle.js";
import { EventLog, MoveCounter } from "./event-log.js";
import { Fleet, type FleetView } from "./fleet.js";
import { Instance, type InstanceView } from "./instance.js";
import { NO_OBSERVER, type CoordinatorObserver } from "./observer.js";
import { RebalancingFreeze, type FreezeInfo } from "./rebalancing-freeze.js";
import type { RoundDecision } from "./round-planner.js";
import { RoundRunner } from "./round-runner.js";
import { SeenWriter } from "./seen-writer.js";
import { SessionOutbox } from "./session-outbox.js";
import type { CoordinatorStore } from "./store-port.js";
import { SOLE_AUTHORITY, type Authority, type AuditEvent, type InstanceHello, type InstanceMetrics, type SessionHandle } from "./types.js";

/**
 * The single writer of the assignment. Session events change instances
 * (through their own transitions) synchronously; scheduling rounds run one at
 * a time, batch everything that happened since the previous one into one
 * write through the store, and only then tell instances. Grants reach an
 * instance only after they are persisted, and a stream leaves a live owner
 * only through revoke, acknowledge, grant.
 */
export class Coordinator {
  private readonly fleet = new Fleet();
  readonly events = new EventLog();
  private readonly moves = new MoveCounter();
  private readonly rounds: RoundRunner;
  private readonly catalog: CatalogReloader;
  private readonly rebalancing: RebalancingFreeze;
  private readonly seen: SeenWriter;
  /** Keyed by stream id: see PlacementSettle on reused slots. */
  private readonly settle: PlacementSettle<string>;
  private timers: TimerHandle[] = [];

  constructor(
    private readonly store: CoordinatorStore,
    readonly options: CoordinatorOptions,
    private readonly logger: Logger,
    private readonly clock: Clock = systemClock,
    private readonly observer: CoordinatorObserver = NO_OBSERVER,
    private readonly authority: Authority = SOLE_AUTHORITY,
  ) {
    const requestRound = () => this.requestRound();
    this.rebalancing = new RebalancingFreeze({ store, clock, observer, logger, audit: (e) => this.rounds.audit(e), requestRound });
    this.settle = new PlacementSettle<string>(options.placementSettle ?? { settleMs: 0, maxMs: 0, minBacklog: 0 }, () => this.presentInstances());
    const heldBack = (now: number) => this.settle.heldBackAs(now, (id) => this.fleet.index.streamSlot(id));
    this.rounds = new RoundRunner({ store, fleet: this.fleet, events: this.events, moves: this.moves, observer, logger, clock, options, isFrozen: () => this.rebalancing.frozen, heldBack });
    this.catalog = new CatalogReloader({ store, fleet: this.fleet, clock, observer, logger, audit: this.rounds.audit, requestRound });
    this.seen = new SeenWriter({ store, fleet: this.fleet, clock, observer, logger, staleAfterMs: options.seenPersistMs ?? 10_000 });
  }

  /** The fleet as readers outside the coordinator see it. */
  get view(): FleetView {
    return this.fleet;
  }

  /** Fair shares from the last round, by instance id. */
  get quotas(): ReadonlyMap<string, number> {
    return this.rounds.quotas;
  }

  /** The rebalancing freeze in force, if any. */
  get freeze(): FreezeInfo | undefined {
    return this.rebalancing.info;
  }

  /** When a monotonic instant of this coordinator's clock happened, on the wall clock (for display). */
  wallTimeOf(at: number): Date {
    return wallTimeOf(this.clock, at);
  }

  /** Streams granted in the last minute. */
  movesLastMinute(): number {
    return this.moves.lastMinute(this.clock.now());
  }

  /** Instances not heard from since this instant are suspect now: `instance.isSuspect(coordinator.suspectCutoff())`. */
  suspectCutoff(): number {
    return suspectCutoff(this.clock.now(), this.options);
  }

  /** Schedules a round; calls made in the same tick share one. */
  requestRound(): void {
    this.rounds.requestRound();
  }

  /** Resolves once no round is running or requested (for tests). */
  settled(): Promise<void> {
    return this.rounds.settled();
  }

  /** Runs a round now (after any running one) and resolves with what it decided. */
  rebalanceNow(): Promise<RoundDecision> {
    return this.rounds.rebalanceNow();
  }

  /**
   * Reloads the persisted fleet; instances that owned streams get one lease to
   * come back, and `takeoverMs` more when a previous leader may still have been
   * renewing leases for that long after this process was elected.
   */
  async start(takeoverMs = 0): Promise<void> {
    const snapshot = await restoreFleet(this.store, this.fleet, this.clock, this.options, takeoverMs);
    this.rebalancing.restore(snapshot.freeze);
    const clearing = clearWhenHonoured(this.store, this.clock, snapshot.restartLeaseMs, this.options.leaseTtlMs + takeoverMs);
    if (clearing) this.timers.push(clearing);
    this.timers.push(
      this.clock.every(this.options.tickMs ?? 100, () => this.tick()),
      this.clock.every(this.options.seenFlushMs ?? 1_000, () => void this.seen.flush()),
    );
    this.logger.info({ instances: snapshot.instances.length, streams: snapshot.streams.length, assignments: snapshot.assignments.size }, "fleet loaded");
    this.requestRound();
  }

  /** Tells every session to come back later, promising the restart lease if it could be recorded first (the next process honours the record); waits for the round and the last flush. */
  async stop(): Promise<void> {
    for (const t of this.timers) this.clock.cancel(t);
    const rounds = this.rounds.stop();
    const promised = await recordRestartLease(this.store, this.options.restartLeaseMs ?? 0, this.logger);
    for (const outbox of this.fleet.detachAll()) {
      outbox.goAway("orchestrator shutting down", 1_000, promised);
      outbox.end({ kind: "shutdown" });
    }
    await rounds;
    await this.seen.flush(true);
    this.events.end("the orchestrator is shutting down");
  }

  /** Leadership is lost: every session ends now, promising nothing (the new leader may be counting already); unwritten changes are the new leader's to redo. */
  stepDown(leader: string): void {
    this.events.end(`this orchestrator replica lost its leadership${leader ? `; the leader is at ${leader}` : ""}`);
    for (const t of this.timers) this.clock.cancel(t);
    void this.rounds.stop().catch(() => undefined);
    for (const outbox of this.fleet.detachAll()) {
      outbox.goAway("leadership lost", 0, 0, leader);
      outbox.end({ kind: "not-leader", leader });
    }
  }

  /** Records an audit event (the app records leader.elected here). */
  audit(kind: string, instanceId?: string, detail?: Record<string, unknown>, streamId?: string): void {
    const event: AuditEvent = { kind, instanceId, streamId, detail, at: new Date(this.clock.wallNow()) };
    this.rounds.audit(event);
  }

  /** The instance whose current session is `session`; undefined for a superseded or ended one. */
  private current(session: SessionHandle, instanceId: string): Instance | undefined {
    const instance = this.fleet.instance(instanceId);
    return instance?.isSessionOf(session) ? instance : undefined;
  }

  /** A validated hello: (re)registers the instance, supersedes an older session, sends welcome and the full set. */
  hello(session: SessionHandle, hello: InstanceHello): void {
    if (!this.authority.mayAct()) {
      session.sendGoAway("not the leader", 0, 0, "");
      return session.end({ kind: "not-leader", leader: "" });
    }
    const now = this.clock.now();
    let instance = this.fleet.instance(hello.instanceId);
    if (!instance) this.fleet.add((instance = Instance.register(hello.instanceId, now, this.clock.wallNow())));
    const outbox = new SessionOutbox(session);
    const previous = instance.connect(outbox, hello, now, this.clock.wallNow());
    if (previous) {
      previous.end({ kind: "superseded", by: session.peer });
      this.observer.superseded();
      this.audit("instance.superseded", instance.id, { old_session: previous.sessionId, new_session: session.sessionId });
    }
    this.audit("instance.joined", instance.id, { session: session.sessionId, capacity: hello.capacity, held: hello.held.length, peer: session.peer });
    if (this.settle.arrival(now, () => this.fleet.index.unownedSlots().map((slot) => this.fleet.index.streamIds[slot]!))) {
      const { expected } = this.settle;
      this.logger.info(expected > 0 ? `many streams without an owner and instances arriving: each arrival gets its share of them until all ${expected} expected instances are here` : "many streams without an owner and instances arriving: placing them once arrivals pause");
    }
    outbox.welcome({ heartbeatIntervalMs: this.options.heartbeatIntervalMs, leaseTtlMs: this.options.leaseTtlMs, reconnectGraceMs: this.options.reconnectGraceMs });
    // The full set replaces whatever the instance holds: stale or foreign streams stop there.
    outbox.assign({ full: true, add: this.rounds.fullSet(instance.id, hello.capacity), remove: [] }, this.fleet.revokingOf(instance.id));
    this.requestRound();
  }

  /** Instances a round could give streams to now: connected and not draining (the settle window's "present"). */
  private presentInstances(): number {
    let n = 0;
    for (const instance of this.fleet.instances()) if (instance.reachable && !instance.draining) n++;
    return n;
  }

  private renew(instance: Instance): void {
    // Back from suspicion: a round gives it its share again.
    if (instance.renew(this.clock.now())) this.requestRound();
  }

  /** A message with nothing else to do renews the lease (heartbeat() and ack() renew it themselves). */
  touch(session: SessionHandle, instanceId: string): void {
    const instance = this.current(session, instanceId);
    if (instance) this.renew(instance);
  }

  /**
   * A heartbeat: renews the lease and keeps what it reports, with one lookup (the hot path).
   * @returns true when the lease was renewed; only then may the session acknowledge it.
   */
  heartbeat(session: SessionHandle, instanceId: string, runningStreams: number, metrics: InstanceMetrics | null): boolean {
    const instance = this.current(session, instanceId);
    // A leader that cannot confirm its leadership renews no lease (README, "Several replicas").
    if (!instance || !this.authority.mayAct()) return false;
    this.renew(instance);
    this.observer.heartbeat();
    instance.report(runningStreams, metrics);
    return true;
  }

  /** The instance applied everything up to `seq`: revoked streams become free. */
  ack(session: SessionHandle, instanceId: string, seq: number): void {
    const instance = this.current(session, instanceId);
    if (!instance) return;
    this.renew(instance);
    let freed = 0;
    for (const streamId of instance.outbox!.acknowledge(seq)) {
      const ownership = this.fleet.owners.get(streamId);
      if (ownership?.instanceId !== instance.id || !ownership.revoking) continue;
      this.fleet.handOver(streamId);
      this.rounds.release({ streamId, instanceId: instance.id });
      this.audit("stream.revoked", instance.id, { seq }, streamId);
      freed++;
    }
    if (freed) this.requestRound();
  }

  /**
   * The instance stopped everything and leaves: its streams move at once, or,
   * when it is restarting and will be back within `returnWithinMs`, stay its
   * own (unrun) until it is back or that time, capped by maxReturnWithinMs, is up.
   */
  leave(session: SessionHandle, instanceId: string, reason: string, returnWithinMs = 0): void {
    const instance = this.current(session, instanceId);
    if (!instance) return;
    const within = Math.min(returnWithinMs, this.options.maxReturnWithinMs ?? 120_000);
    if (within > 0 && instance.leaveToReturn(this.clock.now(), within, this.clock.wallNow())) {
      this.audit("instance.left", instance.id, { reason, return_within_ms: within });
    } else {
      instance.leave();
      this.audit("instance.left", instance.id, { reason });
    }
    session.end({ kind: "left" });
    this.requestRound();
  }

  /** The session ended without leave: keep its streams for the reconnect grace, and until its lease is over. */
  disconnected(session: SessionHandle, instanceId: string, cause: string): void {
    const instance = this.current(session, instanceId);
    const now = this.clock.now();
    if (!instance?.disconnect(now, this.options)) return;
    const keptMs = Math.round((instance.disconnectedUntil ?? now) - now);
    this.audit("instance.disconnected", instance.id, { cause, grace_ms: this.options.reconnectGraceMs, kept_ms: keptMs });
    this.requestRound();
  }

  /** Expires silent leases and finished grace periods, ends a freeze whose time is up. */
  private tick(): void {
    // A replica that may not act judges nobody: after a pause every lease looks run out to it,
    // and the leader that took over decides those instances' fate.
    if (!this.authority.mayAct()) return;
    const now = this.clock.now();
    this.catalog.retryFailed();
    this.rebalancing.expireIfDue(now);
    if (this.settle.closeIfDue(now)) {
      const { expected } = this.settle;
      const present = expected > 0 ? this.presentInstances() : 0;
      if (expected > present) this.logger.warn({ expected, present }, `only ${present} of the ${expected} expected instances (PLACEMENT_EXPECTED_INSTANCES) arrived within PLACEMENT_SETTLE_MAX_MS: placing every stream on them; the late ones get theirs by rebalancing`);
      this.requestRound();
    }
    for (const instance of this.fleet.instances()) {
      const expiry = instance.expire(now, this.options);
      if (!expiry) continue;
      this.audit(expiry.kind, instance.id, { ...expiry.detail, streams: this.fleet.ownedBy(instance.id).size });
      this.requestRound();
    }
  }

  /** Picks up catalog rows changed by the admin API or the sync: removed streams stop at once. */
  catalogChanged(ids: string[]): Promise<void> {
    return this.catalog.reload(ids);
  }

  /**
   * Drains (or undrains) an instance. The flag is written with the instance's
   * row by a round, which also starts moving its streams (revoke before
   * assign); resolves once that round is persisted, so an instance whose first
   * round is still being written can be drained too. If the round fails the
   * promise rejects, and the flag is written by the retry.
   * @returns false when the instance is unknown.
   */
  async setDraining(instanceId: string, draining: boolean): Promise<boolean> {
    const instance = this.fleet.instance(instanceId);
    if (!instance) return false;
    // Refused before anything changes: no round would write it.
    this.rounds.assertRunning();
    if (instance.setDraining(draining)) {
      this.audit(draining ? "instance.drained" : "instance.undrained", instanceId, { streams: this.fleet.ownedBy(instanceId).size });
    }
    await this.rounds.rebalanceNow();
    return true;
  }

  /** Stops moves between live instances, until lifted (null) or for `durationMs`. */
  freezeRebalancing(durationMs: number | null, reason: string): Promise<FreezeInfo> {
    return this.rebalancing.freeze(durationMs, reason);
  }

  /** Lifts a freeze; true when one was in force. */
  unfreeze(reason?: string): Promise<boolean> {
    return this.rebalancing.lift(reason);
  }
}
