import { EventEmitter } from "node:events";
import { status } from "@grpc/grpc-js";
import { pino, type Logger } from "pino";
import type { Hello, Welcome } from "../gen/orchestrator/v1/orchestrator.js";
import { describeEndpoint } from "./address-resolver.js";
import type { AddressRotation } from "./address-rotation.js";
import { AssignmentApplier } from "./assignment-applier.js";
import { classifyDisconnect } from "./disconnect-policy.js";
import { LeaseWatchdog } from "./lease-watchdog.js";
import { orchestratorRoute } from "./orchestrator-route.js";
import { Session, type SessionEnd } from "./session.js";
import type { ConnectTransport, Endpoint, InstanceClientEvents, InstanceClientOptions, RunningStream } from "./types.js";
import { validateOptions } from "./validate-options.js";

type State = "new" | "running" | "stopped" | "closing" | "closed";

/** How long a superseded client waits before trying again: slowly, since the other process is meant to keep the id. */
export const SUPERSEDED_RETRY_MS = 15_000;

/**
 * The instance side of the orchestrator protocol: keeps one Connect session open, reconnects
 * with jittered backoff, applies assignments through `onStart` / `onStop` and acks them only
 * once applied. Streams keep running while the orchestrator is unreachable (unless `strict`),
 * and every reconnect resyncs through the hello's `held` list and the full assignment.
 *
 * A start handler that fails leaves its stream not running; the assignment is still acked, so
 * the orchestrator learns of it only from the heartbeat's running count and the next hello.
 */
export class InstanceClient extends EventEmitter<InstanceClientEvents> {
  readonly #options: InstanceClientOptions;
  readonly #log: Logger;
  readonly #applier: AssignmentApplier;
  readonly #addresses: readonly string[];
  readonly #rotation: AddressRotation;
  readonly #watchdog: LeaseWatchdog;
  readonly #transport: ConnectTransport;
  readonly #welcomeTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  #state: State = "new";
  #session: Session | undefined;
  #leaseTtlMs = 0;
  #lastSentAt = 0;
  /** Until when a restarting orchestrator's go_away promised the lease (monotonic); cleared by the next renewal. */
  #promisedUntil = 0;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: InstanceClientOptions) {
    super();
    validateOptions(options);
    this.#options = options;
    this.#log = (options.logger ?? pino({ level: "silent" })).child({ component: "instance-client", instanceId: options.instanceId });
    this.#applier = new AssignmentApplier({
      onStart: options.onStart,
      onStop: options.onStop,
      onEpochChange: options.onEpochChange,
      logger: this.#log,
    });
    ({ addresses: this.#addresses, rotation: this.#rotation, transport: this.#transport } = orchestratorRoute(options, this.#log));
    this.#watchdog = new LeaseWatchdog(() => {
      this.#leaseExpired().catch((error: unknown) => this.#log.error({ err: error }, "stopping streams after lease loss failed"));
    });
    this.#welcomeTimeoutMs = options.welcomeTimeoutMs ?? 15_000;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 2_000;
  }

  /** A snapshot of the streams running now. */
  running(): ReadonlyMap<string, RunningStream> {
    return this.#applier.running();
  }

  /** Id of the current session; undefined while not connected. */
  get sessionId(): string | undefined {
    return this.connected ? this.#session?.sessionId : undefined;
  }

  /** The address of the orchestrator being dialled or connected to (the leader, once welcomed); undefined before `start()`. */
  get address(): string | undefined {
    return this.#rotation.current?.address;
  }

  /** True between a welcome and the end of its session. */
  get connected(): boolean {
    return this.#session?.welcomed === true && this.#session.open;
  }

  /** Starts connecting in the background; a second call does nothing. Throws after `close()`. */
  start(): void {
    if (this.#state === "closing" || this.#state === "closed") throw new Error("InstanceClient is closed");
    if (this.#state !== "new") return;
    this.#state = "running";
    this.#log.info({ addresses: this.#addresses }, "connecting to the orchestrator");
    this.#loop = this.#run().catch((error: unknown) => {
      // The loop is written not to throw; if it does anyway, surface it rather than lose it.
      this.#log.error({ err: error }, "connect loop crashed");
      this.#emitError(error instanceof Error ? error : new Error(String(error)));
    });
  }

  /**
   * Stops every running stream (`onStop` with reason `shutdown`), sends leave, half-closes and
   * waits (bounded by `closeTimeoutMs`) for the server to end the call, then stops reconnecting.
   * With `returnWithinMs` (a restart: a new process with the same instance id will say hello
   * within that time) the streams stay this instance's, unrun, and come back to it with no move;
   * use it when stopped to be restarted, a plain close for a real shutdown.
   * Idempotent: later calls return the same promise.
   */
  close(reason = "shutdown", options: { returnWithinMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(reason, options.returnWithinMs ?? 0);
    return this.#closing;
  }

  async #close(reason: string, returnWithinMs: number): Promise<void> {
    this.#state = "closing";
    this.#wake?.();
    this.#watchdog.disarm();
    const session = this.#session;
    session?.quiesce();
    // Heartbeats keep flowing meanwhile, so a slow shutdown does not lose the lease mid-way.
    const stopped = await this.#applier.stopAll("shutdown");
    this.#log.info({ reason, stopped: stopped.length }, "closing");
    if (session?.welcomed && session.open) await session.leave(reason, this.#closeTimeoutMs, returnWithinMs);
    else session?.cancel(status.CANCELLED, "client closed");
    await this.#loop;
    this.#transport.close();
    this.#state = "closed";
  }

  async #run(): Promise<void> {
    while (this.#state === "running") {
      // A hello must report a settled running set, not one half-way through an assignment.
      await this.#applier.idle();
      const endpoint = await this.#rotation.take();
      if (this.#state !== "running") return;
      const end = await this.#runSession(endpoint);
      const level = end.sessionId !== undefined && this.#state === "running" ? "warn" : "debug";
      this.#log[level]({ code: end.code, details: end.details, address: describeEndpoint(endpoint) }, "disconnected");
      this.#notify("disconnected", { code: end.code, details: end.details, sessionId: end.sessionId, address: endpoint.address });
      if (this.#state !== "running") return;
      const delay = await this.#afterSession(end);
      if (delay === undefined || this.#state !== "running") return;
      this.#log.debug({ delayMs: delay }, "reconnecting");
      await this.#sleep(delay);
    }
  }

  async #runSession(endpoint: Endpoint): Promise<SessionEnd> {
    let session: Session;
    this.#log.debug({ address: describeEndpoint(endpoint) }, "dialling the orchestrator");
    try {
      session = new Session(this.#transport.open(endpoint), {
        hello: this.#hello(),
        applier: this.#applier,
        logger: this.#log,
        metrics: this.#options.metrics,
        welcomeTimeoutMs: this.#welcomeTimeoutMs,
        goAwayTimeoutMs: this.#closeTimeoutMs,
        onWelcome: (welcome) => this.#onWelcome(welcome),
        onApplied: (result, acked) => this.#notify("assignment", { ...result, acked }),
        onRenewed: (at) => this.#renewed(at),
      });
    } catch (error) {
      this.#log.warn({ err: error }, "could not open a connect call");
      return { code: status.UNAVAILABLE, details: error instanceof Error ? error.message : String(error) };
    }
    this.#session = session;
    try {
      return await session.ended;
    } finally {
      this.#session = undefined;
    }
  }

  #hello(): Hello {
    const o = this.#options;
    return {
      instanceId: o.instanceId,
      capacity: o.capacity,
      held: this.#applier.held(),
      labels: { ...o.labels },
      version: o.version ?? "",
    };
  }

  #onWelcome(welcome: Welcome): void {
    this.#leaseTtlMs = welcome.leaseTtlMs;
    this.#rotation.welcomed();
    this.#armLease();
    const endpoint = this.#rotation.current!;
    this.#log.info({ sessionId: welcome.sessionId, address: describeEndpoint(endpoint), leaseTtlMs: welcome.leaseTtlMs, reconnectGraceMs: welcome.reconnectGraceMs }, "connected");
    this.#notify("welcome", {
      sessionId: welcome.sessionId,
      address: endpoint.address,
      heartbeatIntervalMs: welcome.heartbeatIntervalMs,
      leaseTtlMs: welcome.leaseTtlMs,
    });
  }

  /** The server acknowledged a message that left at `at` (monotonic): the lease runs from there. */
  #renewed(at: number): void {
    this.#lastSentAt = Math.max(this.#lastSentAt, at);
    // The orchestrator now serving renewed the lease itself: an earlier promise no longer matters.
    this.#promisedUntil = 0;
    this.#armLease();
  }

  /** Strict mode: the watchdog fires when the lease runs out, even on an open session (a black hole shows no error). */
  #armLease(): void {
    if (this.#options.strict && this.#leaseTtlMs > 0) this.#watchdog.armAt(Math.max(this.#lastSentAt + this.#leaseTtlMs, this.#promisedUntil));
  }

  /** Decides what follows a session; resolves with the reconnect delay, or undefined to stop. */
  async #afterSession(end: SessionEnd): Promise<number | undefined> {
    // Disconnected from now on: strict mode keeps its streams until the lease runs out, not the
    // grace (the orchestrator moves nothing before the lease is over, so a short blip costs
    // nothing), or longer when a restarting orchestrator promised more, counted like the lease
    // from the last acknowledged heartbeat's sending (README, "Why a stream never runs on two
    // strict instances").
    const promisedMs = end.goAway?.leaseExtensionMs ?? 0;
    if (this.#options.strict && this.#watchdog.deadline !== undefined && promisedMs > 0) {
      this.#promisedUntil = this.#lastSentAt + promisedMs;
      this.#armLease();
    }
    switch (classifyDisconnect({ ...end, goAwayAfterMs: end.goAway?.reconnectAfterMs })) {
      case "go-away":
      case "retry":
        return this.#rotation.after({ welcomed: end.sessionId !== undefined, goAway: end.goAway });
      case "superseded":
        return this.#superseded(end.details);
      case "rejected":
        this.#state = "stopped";
        this.#log.error({ details: end.details }, "orchestrator rejected the hello; not reconnecting");
        this.#notify("rejected", { details: end.details });
        this.#emitError(new Error(`orchestrator rejected the hello: ${end.details}`));
        return undefined;
    }
  }

  async #superseded(details: string): Promise<number | undefined> {
    // The other process received our streams in its full assignment; running them here too
    // would break the one-owner guarantee, and reconnecting fast would just steal them back.
    this.#log.warn({ details }, "superseded by another process with the same instance id");
    this.#watchdog.disarm();
    await this.#applier.stopAll("superseded");
    this.#notify("superseded", { details });
    const policy = this.#options.superseded ?? {};
    if (policy.reconnect === false) {
      this.#state = "stopped";
      return undefined;
    }
    return policy.delayMs ?? SUPERSEDED_RETRY_MS;
  }

  async #leaseExpired(): Promise<void> {
    if (this.#state === "closing" || this.#state === "closed") return;
    const session = this.connected ? this.#session : undefined;
    if (session) {
      // No acknowledgement for a whole lease on a session that looks open: the server has given
      // the streams away or will; this session is no use, and the next hello starts clean.
      this.#log.warn({ leaseTtlMs: this.#leaseTtlMs }, "no heartbeat acknowledged within the lease; stopping every stream and reconnecting");
      session.cancel(status.UNAVAILABLE, "no heartbeat acknowledged within the lease");
    } else {
      this.#log.warn({ leaseTtlMs: this.#leaseTtlMs }, "lease lost while disconnected; stopping every stream");
    }
    const stopped = await this.#applier.stopAll("lease-lost");
    this.#notify("leaseLost", { stopped });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /**
   * Events fire from timers and the connect loop; a throwing listener must neither kill the
   * loop nor surface as an unhandled rejection, so it is logged instead.
   */
  #notify<K extends keyof InstanceClientEvents>(event: K, ...args: InstanceClientEvents[K]): void {
    try {
      // TypeScript cannot match a generic key against emit's conditional parameter type.
      const emit = this.emit as (event: K, ...args: InstanceClientEvents[K]) => boolean;
      emit.call(this, event, ...args);
    } catch (error) {
      this.#log.error({ err: error, event }, "event listener threw");
    }
  }

  #emitError(error: Error): void {
    // EventEmitter throws on an unhandled 'error', which would crash the host from a timer.
    if (this.listenerCount("error") > 0) this.#notify("error", error);
  }
}
