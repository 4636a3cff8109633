import type { Logger } from "../log/logger.js";
import { wallTimeOf, type Clock, type TimerHandle } from "./clock.js";
import { suspectCutoff, type CoordinatorOptions } from "./coordinator-options.js";
import type { EventLog, MoveCounter } from "./event-log.js";
import type { Fleet } from "./fleet.js";
import type { CoordinatorObserver } from "./observer.js";
import { PendingTransfers } from "./pending-transfers.js";
import { TokenBucket } from "../domain/token-bucket.js";
import { IDENTIFICATION_WINDOW_MS } from "../domain/limits.js";
import { planRound, type RoundDecision } from "./round-planner.js";
import { applyRound, returnWithheld, shedOverCapacity } from "./round-sender.js";
import { roundWrites } from "./round-writes.js";
import { isEmptyRound, type CoordinatorStore, type StreamOwner } from "./store-port.js";
import type { AuditEvent, GrantedStream } from "./types.js";

/** What a RoundRunner works on; shared with the coordinator that owns it. */
export interface RoundRunnerDeps {
  store: CoordinatorStore;
  fleet: Fleet;
  events: EventLog;
  moves: MoveCounter;
  observer: CoordinatorObserver;
  logger: Logger;
  clock: Clock;
  options: Pick<CoordinatorOptions, "liveMovesPerSecond" | "liveMovesBurst" | "suspectAfterMs" | "warmUpMs">;
  isFrozen(): boolean;
  /** Stream slots whose placement waits (the settle window's backlog, placement-settle.ts). */
  heldBack?(now: number): ReadonlySet<number>;
}

const NOTHING_DECIDED: RoundDecision = { grants: [], revocations: [], releases: [], liveMoves: 0, deferred: 0, unassigned: 0, quotas: new Map(), suspects: [] };

/** A round was asked for while the orchestrator is shutting down. */
export class ShuttingDownError extends Error {
  constructor() {
    super("orchestrator is shutting down; no more scheduling rounds");
    this.name = "ShuttingDownError";
  }
}

/**
 * Runs scheduling rounds one at a time. Requests made while a round runs
 * coalesce into the next one; each round plans, writes everything since the
 * previous one in one transaction, and only then tells instances. A failed
 * round puts its writes back and is retried a second later.
 */
export class RoundRunner {
  /** Fair shares from the last round, by instance id. */
  quotas: ReadonlyMap<string, number> = new Map();
  readonly transfers = new PendingTransfers();
  private readonly bucket: TokenBucket;
  private pendingEvents: AuditEvent[] = [];
  private released: StreamOwner[] = [];
  private waiters: Array<{ resolve: (d: RoundDecision) => void; reject: (e: unknown) => void }> = [];
  private requested = false;
  private loop?: Promise<void>;
  private delayed?: TimerHandle;
  private stopped = false;

  constructor(private readonly deps: RoundRunnerDeps) {
    this.bucket = new TokenBucket(deps.options.liveMovesPerSecond, deps.options.liveMovesBurst, deps.clock.now());
  }

  /** Records an audit event: visible to watchers now, persisted with the next round. */
  readonly audit = (event: AuditEvent): void => {
    this.pendingEvents.push(event);
    this.deps.events.append(event);
  };

  /** A revoked stream its owner acknowledged: its row goes with the next round. */
  release(owner: StreamOwner): void {
    this.released.push(owner);
  }

  /** Streams beyond an instance's announced capacity: revoked (see shedOverCapacity). */
  shed(instanceId: string, streamIds: string[]): void {
    shedOverCapacity(this.deps.fleet, this.audit, instanceId, streamIds, new Date(this.deps.clock.wallNow()));
  }

  /**
   * What a hello's full set gives an instance: its active streams, less those
   * a round in flight is taking away. Back with a smaller capacity than it
   * owns, it must not start more than it can run, even for a moment: the rest
   * is revoked by that very message (left out of the full set) and freed when
   * the instance acknowledges it, like any revocation.
   */
  fullSet(instanceId: string, capacity: number): GrantedStream[] {
    const active = this.deps.fleet.activeStreamsOf(instanceId);
    const leaving = this.transfers.withhold(instanceId, active.map((a) => a.stream.id));
    const add: GrantedStream[] = active.filter((a) => !leaving.has(a.stream.id)).map(({ stream, epoch }) => ({ ...stream, epoch }));
    this.shed(instanceId, add.splice(capacity).map((s) => s.id));
    return add;
  }

  requestRound(): void {
    if (this.stopped) return;
    this.requested = true;
    this.loop ??= this.runRounds();
  }

  async settled(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** Throws ShuttingDownError once stop() was called. */
  assertRunning(): void {
    if (this.stopped) throw new ShuttingDownError();
  }

  rebalanceNow(): Promise<RoundDecision> {
    if (this.stopped) return Promise.reject(new ShuttingDownError());
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.requestRound();
    });
  }

  /** No new rounds; resolves when the running one is done and what it left over is written. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.clock.cancel(this.delayed);
    await this.loop;
    // Callers waiting for a round that will never run get an answer.
    for (const w of this.waiters.splice(0)) w.reject(new ShuttingDownError());
    await this.flushLeftovers();
  }

  /**
   * Writes what happened since the last round without planning anything:
   * audit events, acknowledged releases and instance rows. Nothing is
   * granted or revoked here, so no instance is told anything.
   */
  private async flushLeftovers(): Promise<void> {
    const taken = this.takePending(NOTHING_DECIDED);
    if (!taken) return;
    try {
      await this.deps.store.writeRound(taken.writes);
    } catch (error) {
      // A restart recovers ownership from the assignments (the old owner keeps what it
      // had not acknowledged); these audit lines and instance rows are lost.
      this.deps.observer.databaseError("round");
      this.deps.logger.warn({ err: error, events: taken.events.length, instances: taken.dirty.length }, "could not write the last changes on shutdown");
    }
  }

  /**
   * What a write must carry besides the decision: instance rows, acknowledged
   * releases and audit events. Taken before writing, so whatever arrives
   * meanwhile waits for the next write; undefined when there is nothing to write.
   */
  private takePending(decision: RoundDecision) {
    const { fleet, clock } = this.deps;
    const dirty = [...fleet.instances()].filter((i) => i.needsWrite);
    const { released, pendingEvents: events } = this;
    const records = dirty.map((i) => i.takeRecord(wallTimeOf(clock, i.lastSeen)));
    const writes = roundWrites(records, released, decision, events, new Date(clock.wallNow()));
    if (isEmptyRound(writes)) return undefined;
    this.released = [];
    this.pendingEvents = [];
    return { writes, dirty, released, events };
  }

  private async runRounds(): Promise<void> {
    // Let everything that happens in this tick join the round.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.requested && !this.stopped) {
      this.requested = false;
      const waiters = this.waiters.splice(0);
      try {
        const decision = await this.round();
        for (const w of waiters) w.resolve(decision);
      } catch (error) {
        for (const w of waiters) w.reject(error);
        this.deps.observer.databaseError("round");
        this.deps.logger.error({ err: error }, "scheduling round failed; retrying in 1 s");
        this.later(1_000);
      }
    }
    this.loop = undefined;
  }

  private async round(): Promise<RoundDecision> {
    const { fleet, clock } = this.deps;
    const started = clock.now();
    const frozen = this.deps.isFrozen();
    const decision = planRound(fleet, frozen ? 0 : this.bucket.available(started), suspectCutoff(started, this.deps.options), this.deps.heldBack?.(started));
    this.quotas = decision.quotas;
    this.markSuspects(decision, started);
    const warmUpMs = this.deps.options.warmUpMs ?? IDENTIFICATION_WINDOW_MS;
    for (const r of decision.revocations) {
      const grantedAt = fleet.owners.get(r.streamId)?.grantedAt;
      r.warm = grantedAt === undefined || started - grantedAt >= warmUpMs;
    }
    // Moves held back by the rate limit need a later round even when this one writes nothing.
    if (decision.deferred > 0 && !frozen) this.later(Math.max(this.bucket.msUntilNext(started), 50));
    const taken = this.takePending(decision);
    if (!taken) return decision;
    const { writes, dirty, released, events } = taken;
    let epochs: Map<string, number>;
    this.transfers.begin(decision, (streamId) => fleet.owners.get(streamId)?.instanceId);
    try {
      epochs = await this.deps.store.writeRound(writes);
    } catch (error) {
      for (const i of dirty) i.unwritten();
      this.released = [...released, ...this.released];
      this.pendingEvents = [...events, ...this.pendingEvents];
      returnWithheld(fleet, this.transfers.end(), this.audit, new Date(clock.wallNow()));
      throw error;
    }
    const withheld = this.transfers.end();
    // Capacity sheds are not rebalancing: only what the scheduler counted against the limit is charged.
    this.bucket.take(decision.liveMoves, clock.now());
    applyRound(fleet, decision, epochs, this.audit, new Date(clock.wallNow()), clock.now());
    returnWithheld(fleet, withheld, this.audit, new Date(clock.wallNow()));
    this.deps.moves.add(epochs.size, clock.now());
    for (const e of writes.events.slice(events.length)) this.deps.events.append(e);
    this.deps.observer.round(decision, (clock.now() - started) / 1000);
    return decision;
  }

  /**
   * Marks instances the round left out for silence, so that their next message
   * asks for a round, when leaving them out may have cost them something: the
   * round moved streams, left some unassigned while they had room, or their own
   * state changed (drained or undrained while silent; a drain of streams they
   * still own waits for them). Otherwise no mark, so instances whose heartbeats
   * run late cannot keep rounds going (a fleet short of capacity always has
   * unassigned streams).
   */
  private markSuspects(decision: RoundDecision, now: number): void {
    const { fleet, clock } = this.deps;
    const changed = decision.grants.length > 0 || decision.revocations.length > 0 || decision.releases.length > 0 || decision.deferred > 0;
    for (const id of decision.suspects) {
      const instance = fleet.instance(id)!;
      const owned = fleet.ownedBy(id).size;
      const missed = changed || instance.needsWrite || (instance.draining && owned > 0) || (decision.unassigned > 0 && owned < instance.capacity);
      if (!missed || !instance.markSuspect()) continue;
      this.audit({ kind: "instance.suspect", instanceId: id, detail: { silent_ms: Math.round(now - instance.lastSeen) }, at: new Date(clock.wallNow()) });
    }
  }

  /** One pending delayed round at most; an earlier request wins. */
  private later(ms: number): void {
    if (this.delayed || this.stopped || !Number.isFinite(ms)) return;
    this.delayed = this.deps.clock.after(ms, () => {
      this.delayed = undefined;
      this.requestRound();
    });
  }
}
