import type { Db } from "../db/database.js";
import { flushLastSeen, loadFleet } from "../db/fleet-repository.js";
import { clearFreeze, loadFreeze, saveFreeze } from "../db/settings-repository.js";
import { CatalogReloader } from "./catalog-reloader.js";
import { EventLog, MoveCounter } from "./event-log.js";
import { NO_OBSERVER, type CoordinatorObserver } from "./observer.js";
import type { Logger } from "../log/logger.js";
import { suspectCutoff, type Clock, type CoordinatorOptions } from "./coordinator-options.js";
import { Fleet, isLive, isSuspect, newInstanceEntry, updateMetrics, type InstanceEntry } from "./fleet.js";
import type { RoundDecision } from "./round-planner.js";
import { RoundRunner } from "./round-runner.js";
import type { AuditEvent, GrantedStream, InstanceHello, InstanceMetrics, SessionHandle } from "./types.js";

/**
 * The single writer of the assignment. Session events update the in-memory
 * fleet synchronously; scheduling rounds run one at a time, batch everything
 * that happened since the previous one into one transaction, and only then
 * tell instances. Grants reach an instance only after they are persisted, and
 * a stream leaves a live owner only through revoke, acknowledge, grant.
 */
export class Coordinator {
  readonly fleet = new Fleet();
  readonly events = new EventLog();
  readonly moves = new MoveCounter();
  /** Rebalancing freeze: absent when not frozen; `until` null means until lifted. */
  freeze?: { until: number | null; reason: string };
  private readonly rounds: RoundRunner;
  private timers: NodeJS.Timeout[] = [];
  private readonly catalog: CatalogReloader;

  constructor(
    private readonly db: Db,
    readonly options: CoordinatorOptions,
    private readonly logger: Logger,
    private readonly clock: Clock = Date.now,
    private readonly observer: CoordinatorObserver = NO_OBSERVER,
  ) {
    this.rounds = new RoundRunner({
      db,
      fleet: this.fleet,
      events: this.events,
      moves: this.moves,
      observer,
      logger,
      clock,
      options,
      isFrozen: () => this.freeze !== undefined,
    });
    this.catalog = new CatalogReloader({
      db,
      fleet: this.fleet,
      observer,
      logger,
      audit: (kind, instanceId, detail, streamId) => this.audit(kind, instanceId, detail, streamId),
      requestRound: () => this.requestRound(),
    });
  }

  /** Fair shares from the last round, by instance id. */
  get quotas(): ReadonlyMap<string, number> {
    return this.rounds.quotas;
  }

  /** Connected but silent for longer than suspectAfterMs: rounds leave it out (see planRound). */
  isSuspect(entry: InstanceEntry): boolean {
    return isSuspect(entry, suspectCutoff(this.clock(), this.options));
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

  /** Reloads the persisted fleet; instances that owned streams get one lease to come back. */
  async start(): Promise<void> {
    const snapshot = await loadFleet(this.db);
    const now = this.clock();
    const freeze = await loadFreeze(this.db);
    if (freeze) this.freeze = { until: freeze.until ? Date.parse(freeze.until) : null, reason: freeze.reason };
    for (const stream of snapshot.streams) this.fleet.catalog.set(stream.id, stream);
    for (const [streamId, ownership] of snapshot.assignments) this.fleet.setOwner(streamId, ownership);
    for (const row of snapshot.instances) {
      const entry = newInstanceEntry(row.id, now);
      Object.assign(entry, { capacity: row.capacity, labels: row.labels, version: row.version, draining: row.draining });
      entry.registeredAt = row.registered_at;
      entry.connectedAt = row.connected_at;
      entry.lastSeen = row.last_seen_at?.getTime() ?? now;
      entry.metrics = (row.metrics as InstanceMetrics | null) ?? null;
      const owns = this.fleet.ownedBy(row.id).size > 0;
      entry.liveness = owns ? "startup" : row.status === "left" ? "left" : "dead";
      entry.deadline = now + this.options.leaseTtlMs;
      entry.dirty = true;
      this.fleet.instances.set(row.id, entry);
    }
    const tick = setInterval(() => this.tick(), this.options.tickMs ?? 100);
    const flush = setInterval(() => void this.flushSeen(), this.options.seenFlushMs ?? 1_000);
    this.timers.push(tick, flush);
    this.logger.info({ instances: snapshot.instances.length, streams: snapshot.streams.length, assignments: snapshot.assignments.size }, "fleet loaded");
    this.requestRound();
  }

  /** Tells every session to come back later, then waits for the running round and the last flush. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    const rounds = this.rounds.stop();
    for (const entry of this.fleet.instances.values()) {
      // Taken first: telling a session anything may end it and clear entry.session.
      const session = entry.session;
      if (!session) continue;
      entry.session = undefined;
      session.sendGoAway("orchestrator shutting down", 1_000);
      session.end({ kind: "shutdown" });
    }
    await rounds;
    await this.flushSeen(true);
  }

  private audit(kind: string, instanceId?: string, detail?: Record<string, unknown>, streamId?: string): void {
    const event: AuditEvent = { kind, instanceId, streamId, detail, at: new Date(this.clock()) };
    this.rounds.audit(event);
  }

  private current(session: SessionHandle, instanceId: string): InstanceEntry | undefined {
    const entry = this.fleet.instances.get(instanceId);
    return entry?.session === session ? entry : undefined;
  }

  /** A validated hello: (re)registers the instance, supersedes an older session, sends welcome and the full set. */
  hello(session: SessionHandle, hello: InstanceHello): void {
    const now = this.clock();
    let entry = this.fleet.instances.get(hello.instanceId);
    if (!entry) {
      entry = newInstanceEntry(hello.instanceId, now);
      entry.registeredAt = new Date(now);
      this.fleet.instances.set(entry.id, entry);
    }
    const previous = entry.session;
    if (previous && previous !== session) {
      previous.end({ kind: "superseded", by: session.peer });
      this.observer.superseded();
      this.audit("instance.superseded", entry.id, { old_session: previous.sessionId, new_session: session.sessionId });
    }
    Object.assign(entry, { session, liveness: "connected", lastSeen: now, heldOut: false, capacity: hello.capacity, labels: hello.labels, version: hello.version });
    entry.connectedAt = new Date(now);
    entry.awaiting = new Map();
    entry.dirty = true;
    this.audit("instance.joined", entry.id, { session: session.sessionId, capacity: hello.capacity, held: hello.held.length, peer: session.peer });
    session.sendWelcome({ heartbeatIntervalMs: this.options.heartbeatIntervalMs, leaseTtlMs: this.options.leaseTtlMs });
    // The full set replaces whatever the instance holds: stale or foreign streams stop there.
    const active = this.fleet.activeStreamsOf(entry.id);
    const leaving = this.rounds.withhold(entry.id, active.map((a) => a.stream.id));
    const add: GrantedStream[] = active.filter((a) => !leaving.has(a.stream.id)).map(({ stream, epoch }) => ({ ...stream, epoch }));
    // Back with a smaller capacity than it owns: it must not start more than it can run,
    // even for a moment. The rest is revoked by this very message (left out of the full
    // set) and freed when the instance acknowledges it, like any revocation.
    this.rounds.revokeForCapacity(entry.id, add.splice(hello.capacity).map((s) => s.id));
    const seq = session.sendAssignment({ full: true, add, remove: [] });
    const revoking = [...this.fleet.ownedBy(entry.id)].filter((id) => this.fleet.owners.get(id)?.revoking);
    if (revoking.length) entry.awaiting.set(seq, revoking);
    this.requestRound();
  }

  /** A message with nothing else to do renews the lease (heartbeat() and ack() renew it themselves). */
  touch(session: SessionHandle, instanceId: string): void {
    const entry = this.current(session, instanceId);
    if (entry) this.renew(entry);
  }

  private renew(entry: InstanceEntry): void {
    entry.lastSeen = this.clock();
    entry.seenDirty = true;
    if (entry.heldOut) {
      // Back from suspicion: a round gives it its share again.
      entry.heldOut = false;
      this.requestRound();
    }
  }

  /** A heartbeat: renews the lease and keeps what it reports, with one lookup (the hot path). */
  heartbeat(session: SessionHandle, instanceId: string, runningStreams: number, metrics: InstanceMetrics | null): void {
    const entry = this.current(session, instanceId);
    if (!entry) return;
    this.renew(entry);
    this.observer.heartbeat();
    entry.runningStreams = runningStreams;
    if (metrics) updateMetrics(entry, metrics);
  }

  /** The instance applied everything up to `seq`: revoked streams become free. */
  ack(session: SessionHandle, instanceId: string, seq: number): void {
    const entry = this.current(session, instanceId);
    if (!entry) return;
    this.renew(entry);
    let freed = 0;
    for (const [s, streamIds] of entry.awaiting) {
      if (s > seq) continue;
      entry.awaiting.delete(s);
      for (const streamId of streamIds) {
        const ownership = this.fleet.owners.get(streamId);
        if (ownership?.instanceId !== entry.id || !ownership.revoking) continue;
        this.fleet.clearOwner(streamId);
        this.rounds.release({ streamId, instanceId: entry.id });
        this.audit("stream.revoked", entry.id, { seq }, streamId);
        freed++;
      }
    }
    if (freed) this.requestRound();
  }

  /** The instance stopped everything and leaves: its streams move at once. */
  leave(session: SessionHandle, instanceId: string, reason: string): void {
    const entry = this.current(session, instanceId);
    if (!entry) return;
    entry.session = undefined;
    entry.liveness = "left";
    entry.dirty = true;
    this.audit("instance.left", entry.id, { reason });
    session.end({ kind: "left" });
    this.requestRound();
  }

  /** The session ended without leave: keep its streams for the reconnect grace. */
  disconnected(session: SessionHandle, instanceId: string, cause: string): void {
    const entry = this.current(session, instanceId);
    if (!entry) return;
    entry.session = undefined;
    if (entry.liveness !== "connected") return;
    entry.liveness = "grace";
    entry.deadline = this.clock() + this.options.reconnectGraceMs;
    entry.dirty = true;
    this.audit("instance.disconnected", entry.id, { cause, grace_ms: this.options.reconnectGraceMs });
    this.requestRound();
  }

  /** Expires silent leases and finished grace periods. */
  private tick(): void {
    const now = this.clock();
    this.catalog.retryFailed();
    if (this.freeze?.until != null && now >= this.freeze.until) void this.unfreeze("freeze period ended").catch(() => undefined);
    for (const entry of this.fleet.instances.values()) {
      if (entry.liveness === "connected" && now - entry.lastSeen > this.options.leaseTtlMs) {
        entry.session?.end({ kind: "lease-expired", leaseTtlMs: this.options.leaseTtlMs });
        entry.session = undefined;
        this.declareDead(entry, "instance.expired", { silent_ms: now - entry.lastSeen });
      } else if ((entry.liveness === "grace" || entry.liveness === "startup") && now >= entry.deadline) {
        this.declareDead(entry, entry.liveness === "grace" ? "instance.dead" : "instance.expired", { after: entry.liveness });
      }
    }
  }

  private declareDead(entry: InstanceEntry, kind: string, detail: Record<string, unknown>): void {
    entry.liveness = "dead";
    entry.dirty = true;
    this.audit(kind, entry.id, { ...detail, streams: this.fleet.ownedBy(entry.id).size });
    this.requestRound();
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
    const entry = this.fleet.instances.get(instanceId);
    if (!entry) return false;
    // Refused before anything changes: no round would write it.
    this.rounds.assertRunning();
    if (entry.draining !== draining) {
      entry.draining = draining;
      entry.dirty = true;
      this.audit(draining ? "instance.drained" : "instance.undrained", instanceId, { streams: this.fleet.ownedBy(instanceId).size });
    }
    await this.rounds.rebalanceNow();
    return true;
  }

  /** Stops moves between live instances, until lifted or for `durationMs`. */
  async freezeRebalancing(durationMs: number | null, reason: string): Promise<void> {
    const until = durationMs === null ? null : this.clock() + durationMs;
    await saveFreeze(this.db, { until: until === null ? null : new Date(until).toISOString(), reason });
    this.freeze = { until, reason };
    this.audit("rebalancing.frozen", undefined, { until: until === null ? null : new Date(until).toISOString(), reason });
  }

  /** Lifts a freeze; true when one was in force. */
  async unfreeze(reason = "lifted by operator"): Promise<boolean> {
    const was = this.freeze !== undefined;
    await clearFreeze(this.db);
    this.freeze = undefined;
    if (was) {
      this.audit("rebalancing.unfrozen", undefined, { reason });
      this.requestRound();
    }
    return was;
  }

  /**
   * Writes last-seen and metrics of instances whose persisted copy is older
   * than `seenPersistMs` (all of them on shutdown). Leases live in memory; the
   * database copy is for operators and restarts, so a few seconds of staleness
   * buys a steady trickle of writes instead of one burst per heartbeat interval.
   */
  private async flushSeen(all = false): Promise<void> {
    const now = this.clock();
    const staleAfter = all ? 0 : (this.options.seenPersistMs ?? 10_000);
    const seen = [...this.fleet.instances.values()].filter((e) => e.seenDirty && isLive(e) && now - e.seenPersistedAt >= staleAfter);
    if (!seen.length) return;
    for (const e of seen) e.seenDirty = false;
    try {
      await flushLastSeen(this.db, seen.map((e) => ({ id: e.id, at: new Date(e.lastSeen), metrics: e.metrics })));
      for (const e of seen) e.seenPersistedAt = now;
    } catch (error) {
      for (const e of seen) e.seenDirty = true;
      this.observer.databaseError("last_seen_flush");
      this.logger.warn({ err: error }, "last-seen flush failed; will retry");
    }
  }
}
