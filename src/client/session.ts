import { status, type StatusObject } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type {
  Assignment,
  ConnectRequest,
  ConnectResponse,
  GoAway,
  Hello,
  SystemMetrics,
  Welcome,
} from "../gen/orchestrator/v1/orchestrator.js";
import type { ApplyResult, AssignmentApplier } from "./assignment-applier.js";
import { SerialQueue } from "./serial-queue.js";
import type { ConnectCall, InstanceMetrics } from "./types.js";

/** How one session ended. */
export interface SessionEnd {
  code: number;
  details: string;
  /** Set when the server sent go_away. */
  goAway?: GoAway | undefined;
  /** Set when the session had been welcomed. */
  sessionId?: string | undefined;
}

/** What a session needs from the client that owns it. */
export interface SessionDeps {
  hello: Hello;
  applier: AssignmentApplier;
  logger: Logger;
  metrics?: (() => InstanceMetrics | Promise<InstanceMetrics>) | undefined;
  welcomeTimeoutMs: number;
  goAwayTimeoutMs: number;
  onWelcome(welcome: Welcome): void;
  onApplied(result: ApplyResult, acked: boolean): void;
  /** The server confirmed (welcome, heartbeat ack) a message that left at `at` (ms since epoch): the lease runs from there. */
  onRenewed(at: number): void;
}

// A server that sends 0 would make setInterval spin; a third of the lease still keeps it alive.
function heartbeatInterval(welcome: Welcome): number {
  if (welcome.heartbeatIntervalMs > 0) return welcome.heartbeatIntervalMs;
  return welcome.leaseTtlMs > 0 ? Math.max(1, Math.floor(welcome.leaseTtlMs / 3)) : 5_000;
}

/**
 * One Connect call: sends hello, heartbeats once welcomed, and handles server messages
 * strictly one after another, acking an assignment only after the applier finished it.
 * Messages still queued when the call ends are dropped: the next session's full assignment
 * resyncs, and their seqs mean nothing to a new session anyway.
 */
export class Session {
  /** Resolves exactly once, when the call ended for whatever reason. */
  readonly ended: Promise<SessionEnd>;
  readonly #call: ConnectCall;
  readonly #deps: SessionDeps;
  readonly #log: Logger;
  readonly #inbound = new SerialQueue();
  #resolveEnded!: (end: SessionEnd) => void;
  #open = true;
  #halfClosed = false;
  #quiesced = false;
  #welcome: Welcome | undefined;
  #goAway: GoAway | undefined;
  #override: { code: number; details: string } | undefined;
  #helloAt = 0;
  #lastSeq = 0;
  #welcomeTimer: NodeJS.Timeout | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  /** The metrics callback in progress (one at a time), and what the last one returned. */
  #sampling: Promise<void> | undefined;
  #latestMetrics: SystemMetrics | undefined;
  #heartbeatSeq = 0;
  /** Heartbeat seq to when it left, until the server acknowledges it. */
  readonly #heartbeatsInFlight = new Map<number, number>();

  constructor(call: ConnectCall, deps: SessionDeps) {
    this.#call = call;
    this.#deps = deps;
    this.#log = deps.logger;
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    call.on("data", (message) => {
      // Kept on arrival, not when its turn comes: a standby or a deposed leader ends the call right
      // after its go_away, and the leader it names (or a restart's lease extension) must outlive
      // the messages the end drops.
      if (message.msg?.$case === "goAway" && this.#open) this.#goAway = message.msg.value;
      this.#inbound.run(() => this.#handle(message)).catch((error: unknown) => {
        this.#log.error({ err: error }, "handling a message from the orchestrator failed");
      });
    });
    // grpc-js emits the failure both as 'error' and as 'status'; 'status' is the one we act on.
    call.on("error", (error) => this.#log.debug({ err: error }, "connect call error"));
    call.on("status", (s: StatusObject) => this.#finish(s.code, s.details));
    this.#welcomeTimer = setTimeout(
      () => this.cancel(status.DEADLINE_EXCEEDED, `no welcome within ${deps.welcomeTimeoutMs} ms`),
      deps.welcomeTimeoutMs,
    );
    this.#helloAt = performance.now();
    this.#write({ msg: { $case: "hello", value: deps.hello } });
  }

  /** True while the call has not ended. */
  get open(): boolean {
    return this.#open;
  }

  get welcomed(): boolean {
    return this.#welcome !== undefined;
  }

  get sessionId(): string | undefined {
    return this.#welcome?.sessionId;
  }

  /** Stops applying assignments (the client is closing); the one in progress still finishes. */
  quiesce(): void {
    this.#quiesced = true;
  }

  /** Sends leave (with the time it will be back in, for a restart), half-closes, and waits up to `timeoutMs` for the server to end the call. */
  async leave(reason: string, timeoutMs: number, returnWithinMs = 0): Promise<void> {
    if (!this.#open) return;
    this.#write({ msg: { $case: "leave", value: { reason, returnWithinMs: Math.max(0, Math.min(2 ** 32 - 1, Math.round(returnWithinMs))) } } });
    this.#halfClose();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.ended, timeout]);
    clearTimeout(timer);
    this.cancel(status.CANCELLED, `server did not end the call within ${timeoutMs} ms of leave`);
  }

  /** Ends the call from our side; `code` and `details` are what the session reports as its end. */
  cancel(code: number = status.CANCELLED, details = "cancelled by client"): void {
    if (!this.#open) return;
    this.#override ??= { code, details };
    this.#call.cancel();
  }

  async #handle(message: ConnectResponse): Promise<void> {
    if (!this.#open) return;
    const msg = message.msg;
    switch (msg?.$case) {
      case "welcome":
        return this.#onWelcome(msg.value);
      case "assignment":
        return this.#onAssignment(msg.value);
      case "goAway":
        return this.#onGoAway(msg.value);
      case "heartbeatAck":
        return this.#onHeartbeatAck(msg.value.seq);
      default:
        this.#log.warn("ignoring an empty or unknown message from the orchestrator");
    }
  }

  #onWelcome(welcome: Welcome): void {
    if (this.#welcome) {
      this.#log.warn({ sessionId: welcome.sessionId }, "ignoring a second welcome");
      return;
    }
    clearTimeout(this.#welcomeTimer);
    this.#welcome = welcome;
    const interval = heartbeatInterval(welcome);
    this.#heartbeatTimer = setInterval(() => void this.#heartbeat(interval / 10), interval);
    // The welcome proves the hello arrived, so the lease counts from when it left.
    this.#deps.onRenewed(this.#helloAt);
    this.#deps.onWelcome(welcome);
  }

  async #onAssignment(assignment: Assignment): Promise<void> {
    if (this.#quiesced) return;
    if (!this.#welcome) this.#log.warn({ seq: assignment.seq }, "assignment before welcome");
    if (assignment.seq <= this.#lastSeq) {
      this.#log.warn({ seq: assignment.seq, lastSeq: this.#lastSeq }, "assignment seq did not increase");
    }
    this.#lastSeq = Math.max(this.#lastSeq, assignment.seq);
    const result = await this.#deps.applier.apply(assignment);
    // Revoke-before-assign hinges on this: the ack goes out only after every handler finished.
    const acked = this.#write({ msg: { $case: "ack", value: { seq: assignment.seq } } });
    this.#log.debug({ ...result, acked }, "assignment applied");
    this.#deps.onApplied(result, acked);
  }

  #onGoAway(goAway: GoAway): void {
    this.#log.info({ reason: goAway.reason, reconnectAfterMs: goAway.reconnectAfterMs, leaderAddress: goAway.leaderAddress || undefined }, "orchestrator sent go_away");
    this.#goAway = goAway;
    this.#halfClose();
    this.#closeTimer = setTimeout(
      () => this.cancel(status.CANCELLED, "server did not end the call after go_away"),
      this.#deps.goAwayTimeoutMs,
    );
  }

  #onHeartbeatAck(seq: number): void {
    const sentAt = this.#heartbeatsInFlight.get(seq);
    for (const pending of this.#heartbeatsInFlight.keys()) if (pending <= seq) this.#heartbeatsInFlight.delete(pending);
    if (sentAt !== undefined) this.#deps.onRenewed(sentAt);
  }

  /**
   * Heartbeats keep their rhythm whatever the metrics callback does: the server
   * stops giving new streams to an instance whose heartbeat is half an interval
   * late. The callback gets `budgetMs`; past that (or while an earlier call is
   * still running, so calls never pile up) the heartbeat carries the last
   * metrics known.
   */
  async #heartbeat(budgetMs: number): Promise<void> {
    if (this.#deps.metrics) {
      this.#sampling ??= this.#sampleMetrics().then((m) => {
        this.#latestMetrics = m;
        this.#sampling = undefined;
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#sampling, new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))]);
      clearTimeout(timer);
    }
    const seq = ++this.#heartbeatSeq;
    // Unanswered heartbeats are forgotten after a while; only the newest ones matter for the lease.
    if (this.#heartbeatsInFlight.size >= 64) this.#heartbeatsInFlight.delete(this.#heartbeatsInFlight.keys().next().value!);
    this.#heartbeatsInFlight.set(seq, performance.now());
    this.#write({ msg: { $case: "heartbeat", value: { metrics: this.#latestMetrics, runningStreams: this.#deps.applier.size, seq } } });
  }

  async #sampleMetrics(): Promise<SystemMetrics | undefined> {
    if (!this.#deps.metrics) return undefined;
    try {
      const m = await this.#deps.metrics();
      return { ...m, loadAverage: m.loadAverage ?? [] };
    } catch (error) {
      this.#log.warn({ err: error }, "metrics callback failed; heartbeat sent without metrics");
      return undefined;
    }
  }

  /** Returns whether the message was handed to the call. */
  #write(request: ConnectRequest): boolean {
    if (!this.#open || this.#halfClosed) return false;
    try {
      this.#call.write(request);
      return true;
    } catch (error) {
      this.#log.warn({ err: error, kind: request.msg?.$case }, "could not write to the connect call");
      return false;
    }
  }

  #halfClose(): void {
    if (this.#halfClosed) return;
    this.#halfClosed = true;
    clearInterval(this.#heartbeatTimer);
    try {
      this.#call.end();
    } catch (error) {
      this.#log.debug({ err: error }, "half-close failed");
    }
  }

  #finish(code: number, details: string): void {
    if (!this.#open) return;
    this.#open = false;
    clearTimeout(this.#welcomeTimer);
    clearTimeout(this.#closeTimer);
    clearInterval(this.#heartbeatTimer);
    const end = this.#override ?? { code, details };
    this.#resolveEnded({ ...end, goAway: this.#goAway, sessionId: this.#welcome?.sessionId });
  }
}
