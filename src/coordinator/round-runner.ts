import type { Db } from "../db/database.js";
import { isEmptyRound, writeRound, type StreamOwner } from "../db/round-writer.js";
import type { Logger } from "../log/logger.js";
import { suspectCutoff, type Clock, type CoordinatorOptions } from "./coordinator-options.js";
import type { EventLog, MoveCounter } from "./event-log.js";
import type { Fleet } from "./fleet.js";
import type { CoordinatorObserver } from "./observer.js";
import { TokenBucket } from "./rate-limiter.js";
import { planRound, type RoundDecision } from "./round-planner.js";
import { sendRoundChanges } from "./round-sender.js";
import { roundWrites } from "./round-writes.js";
import type { AuditEvent } from "./types.js";

/** What a RoundRunner works on; shared with the coordinator that owns it. */
export interface RoundRunnerDeps {
  db: Db;
  fleet: Fleet;
  events: EventLog;
  moves: MoveCounter;
  observer: CoordinatorObserver;
  logger: Logger;
  clock: Clock;
  options: Pick<CoordinatorOptions, "liveMovesPerSecond" | "liveMovesBurst" | "suspectAfterMs">;
  isFrozen(): boolean;
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
  private readonly bucket: TokenBucket;
  private pendingEvents: AuditEvent[] = [];
  private released: StreamOwner[] = [];
  private waiters: Array<{ resolve: (d: RoundDecision) => void; reject: (e: unknown) => void }> = [];
  private requested = false;
  private loop?: Promise<void>;
  private delayed?: NodeJS.Timeout;
  private stopped = false;
  /** While a round is being written: streams it takes away from their owner, by stream id. */
  private leaving = new Map<string, string>();
  /** Streams left out of a full set because they were leaving, by instance id. */
  private withheld = new Map<string, Set<string>>();

  constructor(private readonly deps: RoundRunnerDeps) {
    this.bucket = new TokenBucket(deps.options.liveMovesPerSecond, deps.options.liveMovesBurst, deps.clock());
  }

  /** Records an audit event: visible to watchers now, persisted with the next round. */
  audit(event: AuditEvent): void {
    this.pendingEvents.push(event);
    this.deps.events.append(event);
  }

  /** A revoked stream its owner acknowledged: its row goes with the next round. */
  release(owner: StreamOwner): void {
    this.released.push(owner);
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

  /**
   * Streams of `instanceId` that the round being written gives away. A hello
   * must not hand them back: once the round lands they run elsewhere, and
   * nothing would tell this instance to stop. They are remembered, and sent
   * after all if the round fails.
   */
  withhold(instanceId: string, streamIds: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const id of streamIds) if (this.leaving.get(id) === instanceId) out.add(id);
    if (out.size) this.withheld.set(instanceId, out);
    return out;
  }

  /**
   * Streams an instance owns beyond the capacity it announced: marked as being
   * revoked, so no round counts them as its own, and freed (for others) when
   * it acknowledges the message that leaves them out or removes them.
   */
  revokeForCapacity(instanceId: string, streamIds: string[]): void {
    const at = new Date(this.deps.clock());
    for (const streamId of streamIds) {
      this.deps.fleet.markRevoking(streamId);
      this.audit({ kind: "stream.revoking", instanceId, streamId, detail: { reason: "capacity" }, at });
    }
  }

  /** No new rounds; resolves when the running one is done and what it left over is written. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.delayed);
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
    const taken = this.takePending(NOTHING_DECIDED, this.deps.clock());
    if (!taken) return;
    const { writes, dirty } = taken;
    try {
      await writeRound(this.deps.db, writes);
    } catch (error) {
      // A restart recovers ownership from the assignments (the old owner keeps what it
      // had not acknowledged); these audit lines and instance rows are lost.
      this.deps.observer.databaseError("round");
      this.deps.logger.warn({ err: error, events: writes.events.length, instances: dirty.length }, "could not write the last changes on shutdown");
    }
  }

  /**
   * What a write must carry besides the decision: instance rows, acknowledged
   * releases and audit events. Taken before writing, so whatever arrives
   * meanwhile waits for the next write; undefined when there is nothing to write.
   */
  private takePending(decision: RoundDecision, now: number) {
    const dirty = [...this.deps.fleet.instances.values()].filter((e) => e.dirty);
    const { released, pendingEvents: events } = this;
    const writes = roundWrites(dirty, released, decision, events, new Date(now));
    if (isEmptyRound(writes)) return undefined;
    this.released = [];
    this.pendingEvents = [];
    for (const e of dirty) e.dirty = false;
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
    const started = performance.now();
    const now = clock();
    const frozen = this.deps.isFrozen();
    const decision = planRound(fleet, frozen ? 0 : this.bucket.available(now), suspectCutoff(now, this.deps.options));
    this.quotas = decision.quotas;
    this.holdOut(decision, now);
    // Moves held back by the rate limit need a later round even when this one writes nothing.
    if (decision.deferred > 0 && !frozen) this.later(Math.max(this.bucket.msUntilNext(now), 50));
    const taken = this.takePending(decision, now);
    if (!taken) return decision;
    const { writes, dirty, released, events } = taken;
    let epochs: Map<string, number>;
    for (const g of decision.grants) if (g.from) this.leaving.set(g.streamId, g.from);
    for (const r of decision.releases) this.leaving.set(r.streamId, r.instanceId);
    try {
      epochs = await writeRound(this.deps.db, writes);
    } catch (error) {
      for (const e of dirty) e.dirty = true;
      this.released = [...released, ...this.released];
      this.pendingEvents = [...events, ...this.pendingEvents];
      this.leaving.clear();
      this.returnWithheld();
      throw error;
    }
    this.leaving.clear();
    // Capacity sheds are not rebalancing: only what the scheduler counted against the limit is charged.
    this.bucket.take(decision.liveMoves, clock());
    sendRoundChanges(fleet, decision, epochs);
    this.returnWithheld();
    this.deps.moves.add(epochs.size, clock());
    for (const e of writes.events.slice(events.length)) this.deps.events.append(e);
    this.deps.observer.round(decision, (performance.now() - started) / 1000);
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
  private holdOut(decision: RoundDecision, now: number): void {
    const { fleet } = this.deps;
    const changed = decision.grants.length > 0 || decision.revocations.length > 0 || decision.releases.length > 0 || decision.deferred > 0;
    for (const id of decision.suspects) {
      const entry = fleet.instances.get(id)!;
      const owned = fleet.ownedBy(id).size;
      const missed = changed || entry.dirty || (entry.draining && owned > 0) || (decision.unassigned > 0 && owned < entry.capacity);
      if (entry.heldOut || !missed) continue;
      entry.heldOut = true;
      this.audit({ kind: "instance.suspect", instanceId: id, detail: { silent_ms: now - entry.lastSeen }, at: new Date(now) });
    }
  }

  /** Withheld streams that are still the instance's after the round: it must run them after all. */
  private returnWithheld(): void {
    const { fleet } = this.deps;
    for (const [instanceId, streamIds] of this.withheld) {
      const entry = fleet.instances.get(instanceId);
      const back = [...streamIds].flatMap((id) => {
        const ownership = fleet.owners.get(id);
        const stream = fleet.catalog.get(id);
        return ownership?.instanceId === instanceId && !ownership.revoking && stream?.enabled ? [{ ...stream, epoch: ownership.epoch }] : [];
      });
      if (!back.length || !entry?.session) continue;
      // Within the capacity its hello announced: what it runs already counts, the rest is revoked.
      const running = fleet.activeStreamsOf(instanceId).length - back.length;
      const add = back.splice(0, Math.max(0, entry.capacity - running));
      const remove = back.map((s) => s.id);
      this.revokeForCapacity(instanceId, remove);
      const seq = entry.session.sendAssignment({ full: false, add, remove });
      if (remove.length) entry.awaiting.set(seq, remove);
    }
    this.withheld.clear();
  }

  /** One pending delayed round at most; an earlier request wins. */
  private later(ms: number): void {
    if (this.delayed || this.stopped || !Number.isFinite(ms)) return;
    this.delayed = setTimeout(() => {
      this.delayed = undefined;
      this.requestRound();
    }, ms);
  }
}
