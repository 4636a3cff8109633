import type { SessionOutbox } from "./session-outbox.js";
import type { InstanceRecord, SeenWrite } from "./store-port.js";
import type { InstanceHello, InstanceMetrics, SessionHandle } from "./types.js";
import { copyMetricsInto } from "./metrics-copy.js";
import { disconnectedUntil, leaseEnd, restoredUntil, type LeaseTerms } from "./lease-rule.js";

/**
 * The one vocabulary for an instance's state; the proto, the HTTP JSON and the
 * table each map it once (draining is a flag beside it, suspect is derived):
 * - connected: a session is open;
 * - disconnected: no session, but it keeps its streams until `deadline`
 *   (its connection broke, it left to restart and said when it would be back,
 *   or it has not come back since an orchestrator restart);
 * - dead / left: owns nothing any more.
 */
export type InstanceState = "connected" | "disconnected" | "dead" | "left";

/** Why a disconnected instance still owns its streams. */
export type Absence = "connection-lost" | "orchestrator-restart" | "restarting";

/** What an instance that expired tells the audit log. */
export interface Expiry {
  kind: "instance.expired" | "instance.dead";
  detail: Record<string, unknown>;
}

/** An instance as readers outside the coordinator see it: nothing here can be changed. */
export interface InstanceView {
  readonly id: string;
  readonly capacity: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly version: string;
  readonly state: InstanceState;
  readonly draining: boolean;
  /** Last message from it, on the coordinator's monotonic clock. */
  readonly lastSeen: number;
  readonly registeredAt: Date | null;
  readonly connectedAt: Date | null;
  readonly metrics: Readonly<InstanceMetrics> | null;
  readonly runningStreams: number;
  readonly sessionId: string | undefined;
  /** Still runs what it owns (connected or disconnected). */
  readonly live: boolean;
  /** Disconnected: when it is declared dead and its streams move (monotonic); otherwise undefined. */
  readonly disconnectedUntil: number | undefined;
  /** Connected but not heard from since `heardSince` (see Coordinator.suspectCutoff). */
  isSuspect(heardSince: number): boolean;
}

/**
 * One instance, and the only code that changes it: every transition (hello,
 * renew, disconnect, expire, leave, drain, suspect) is a method here, and so
 * is the bookkeeping of what must be written (dirty for membership, seen for
 * last-seen and metrics). Times are monotonic milliseconds unless named wall.
 */
export class Instance implements InstanceView {
  private _capacity = 0;
  private _labels: Record<string, string> = {};
  private _version = "";
  private _state: InstanceState = "dead";
  private absence: Absence = "connection-lost";
  private _draining = false;
  /** For disconnected: when it is declared dead. */
  private deadline = 0;
  /** Left to return: `deadline` as a wall-clock time, written so that a restarted orchestrator honours it. */
  private returnBy: Date | null = null;
  private _lastSeen: number;
  private _registeredAt: Date | null = null;
  private _connectedAt: Date | null = null;
  private _metrics: InstanceMetrics | null = null;
  private _runningStreams = 0;
  private _outbox: SessionOutbox | undefined;
  /** A round left it out for silence while that cost it something: its next message asks for a round. */
  private suspectMarked = false;
  private dirty = true;
  private seenDirty = false;
  private seenWrittenAt = Number.NEGATIVE_INFINITY;

  private constructor(
    readonly id: string,
    now: number,
  ) {
    this._lastSeen = now;
  }

  /** An instance seen for the first time. */
  static register(id: string, now: number, wallNow: number): Instance {
    const instance = new Instance(id, now);
    instance._registeredAt = new Date(wallNow);
    return instance;
  }

  /**
   * An instance known from before an orchestrator restart. One that owned
   * streams keeps them, disconnected, for one lease from now: it may still be
   * running them and reconnect with its held set. One that had left to return
   * keeps them until its return window (`returnUntil`, monotonic) if that is later.
   */
  static restore(record: InstanceRecord, owns: boolean, now: number, lastSeen: number, terms: LeaseTerms, promisedMs = 0, returnUntil?: number): Instance {
    const instance = new Instance(record.id, lastSeen);
    instance._capacity = record.capacity;
    instance._labels = record.labels;
    instance._version = record.version;
    instance._draining = record.draining;
    instance._registeredAt = record.registeredAt;
    instance._connectedAt = record.connectedAt;
    instance._metrics = record.metrics;
    instance._state = owns ? "disconnected" : record.state === "left" ? "left" : "dead";
    instance.absence = "orchestrator-restart";
    instance.deadline = restoredUntil(now, terms, promisedMs);
    if (owns && record.state === "disconnected" && record.returnBy && returnUntil !== undefined && returnUntil > instance.deadline) {
      instance.absence = "restarting";
      instance.deadline = returnUntil;
      instance.returnBy = record.returnBy;
    }
    return instance;
  }

  get capacity(): number { return this._capacity; }
  get labels(): Readonly<Record<string, string>> { return this._labels; }
  get version(): string { return this._version; }
  get state(): InstanceState { return this._state; }
  get draining(): boolean { return this._draining; }
  get lastSeen(): number { return this._lastSeen; }
  get registeredAt(): Date | null { return this._registeredAt; }
  get connectedAt(): Date | null { return this._connectedAt; }
  get metrics(): Readonly<InstanceMetrics> | null { return this._metrics; }
  get runningStreams(): number { return this._runningStreams; }
  get sessionId(): string | undefined { return this._outbox?.sessionId; }
  get outbox(): SessionOutbox | undefined { return this._outbox; }
  get live(): boolean { return this._state === "connected" || this._state === "disconnected"; }

  /** Connected with an open session: the only instances rounds can give anything to. */
  get reachable(): boolean {
    return this._state === "connected" && this._outbox !== undefined;
  }

  /** Connected but not heard from since `heardSince`: rounds leave it out, it keeps what it runs. */
  isSuspect(heardSince: number): boolean {
    return this.reachable && this._lastSeen < heardSince;
  }

  /** True when `session` is this instance's current session (messages of older sessions are ignored). */
  isSessionOf(session: SessionHandle): boolean {
    return this._outbox?.wraps(session) === true;
  }

  /**
   * A hello on `outbox`: connected from now on with what it announced.
   * @returns the session it replaces, if another one was open.
   */
  connect(outbox: SessionOutbox, hello: InstanceHello, now: number, wallNow: number): SessionOutbox | undefined {
    const previous = this._outbox;
    this._outbox = outbox;
    this._state = "connected";
    this._lastSeen = now;
    this.suspectMarked = false;
    this._capacity = hello.capacity;
    this._labels = hello.labels;
    this._version = hello.version;
    this._connectedAt = new Date(wallNow);
    this.dirty = true;
    return previous;
  }

  /**
   * Any message renews the lease.
   * @returns true when a round had left it out as suspect: it needs a round to get its share back.
   */
  renew(now: number): boolean {
    this._lastSeen = now;
    this.seenDirty = true;
    if (!this.suspectMarked) return false;
    this.suspectMarked = false;
    return true;
  }

  /** What a heartbeat reports: running streams and system metrics (copied into the existing object). */
  report(runningStreams: number, metrics: InstanceMetrics | null): void {
    this._runningStreams = runningStreams;
    if (metrics) this._metrics = copyMetricsInto(this._metrics, metrics);
  }

  /**
   * The session ended without leave: it keeps its streams for the grace, and
   * at least until its lease is over (lease-rule.ts).
   * @returns true when that started a grace period (it was connected).
   */
  disconnect(now: number, terms: LeaseTerms): boolean {
    this._outbox = undefined;
    if (this._state !== "connected") return false;
    this._state = "disconnected";
    this.absence = "connection-lost";
    this.deadline = disconnectedUntil(now, this._lastSeen, terms);
    this.dirty = true;
    return true;
  }

  /**
   * It stopped everything and is restarting, back within `returnWithinMs`:
   * its streams stay its own, unrun, until it says hello again (they are in
   * its full set: nothing moves) or the time is up (they move as a dead
   * instance's). Nothing runs them meanwhile, so no lease needs to run out.
   * @returns false when it was not connected.
   */
  leaveToReturn(now: number, returnWithinMs: number, wallNow: number): boolean {
    this._outbox = undefined;
    if (this._state !== "connected") return false;
    this._state = "disconnected";
    this.absence = "restarting";
    this.deadline = now + returnWithinMs;
    this.returnBy = new Date(wallNow + returnWithinMs);
    this.dirty = true;
    return true;
  }

  /** It stopped everything and went away: its streams move at once. */
  leave(): void {
    this._outbox = undefined;
    this._state = "left";
    this.dirty = true;
  }

  /** For a disconnected instance: when it is declared dead (monotonic). */
  get disconnectedUntil(): number | undefined {
    return this._state === "disconnected" ? this.deadline : undefined;
  }

  /**
   * Declares it dead when its lease (connected) or its grace and lease
   * (disconnected) have run out at `now`, margins included (lease-rule.ts); a
   * silent session is ended with the lease-expired reason.
   */
  expire(now: number, terms: LeaseTerms): Expiry | undefined {
    let expiry: Expiry | undefined;
    if (this._state === "connected" && now > leaseEnd(this._lastSeen, terms)) {
      this._outbox?.end({ kind: "lease-expired", leaseTtlMs: terms.leaseTtlMs });
      this._outbox = undefined;
      expiry = { kind: "instance.expired", detail: { silent_ms: Math.round(now - this._lastSeen) } };
    } else if (this._state === "disconnected" && now >= this.deadline) {
      const restart = this.absence === "orchestrator-restart";
      const after = restart ? "startup" : this.absence === "restarting" ? "return window" : "grace";
      expiry = { kind: restart ? "instance.expired" : "instance.dead", detail: { after } };
    }
    if (!expiry) return undefined;
    this._state = "dead";
    this.dirty = true;
    return expiry;
  }

  /** @returns true when the flag changed. */
  setDraining(draining: boolean): boolean {
    if (this._draining === draining) return false;
    this._draining = draining;
    this.dirty = true;
    return true;
  }

  /** A round left it out for silence at a cost to it. @returns true when newly marked. */
  markSuspect(): boolean {
    if (this.suspectMarked) return false;
    this.suspectMarked = true;
    return true;
  }

  /** Detaches the session (orchestrator shutdown): the caller tells it to go away. */
  detach(): SessionOutbox | undefined {
    const outbox = this._outbox;
    this._outbox = undefined;
    return outbox;
  }

  /** True when membership changed since the last write. */
  get needsWrite(): boolean {
    return this.dirty;
  }

  /** The row to write, clearing the dirty mark; `unwritten()` puts it back when the write fails. */
  takeRecord(lastSeenAt: Date): InstanceRecord {
    this.dirty = false;
    return {
      id: this.id,
      capacity: this._capacity,
      labels: this._labels,
      version: this._version,
      state: this._state,
      draining: this._draining,
      sessionId: this._outbox?.sessionId ?? null,
      registeredAt: this._registeredAt,
      connectedAt: this._connectedAt,
      lastSeenAt,
      // Only while it is away: a hello, a plain leave or its death ends the promise.
      returnBy: this._state === "disconnected" && this.absence === "restarting" ? this.returnBy : null,
      metrics: null,
    };
  }

  unwritten(): void {
    this.dirty = true;
  }

  /** Last-seen to write when it changed and the written copy is at least `staleAfterMs` old; `wallOffset` maps monotonic to wall time. */
  takeSeen(now: number, staleAfterMs: number, wallOffset: number): SeenWrite | undefined {
    if (!this.seenDirty || !this.live || now - this.seenWrittenAt < staleAfterMs) return undefined;
    this.seenDirty = false;
    return { id: this.id, at: new Date(this._lastSeen + wallOffset), metrics: this._metrics };
  }

  seenWritten(now: number): void {
    this.seenWrittenAt = now;
  }

  seenUnwritten(): void {
    this.seenDirty = true;
  }
}
