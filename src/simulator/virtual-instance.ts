import { status } from "@grpc/grpc-js";
import { InstanceClient, type ConnectionSecurity, type ConnectTransport } from "../client/index.js";
import { FaultTransport } from "./fault-transport.js";
import type { InstanceState, OwnershipLedger } from "./ledger.js";

/** What a virtual instance needs. */
export interface VirtualInstanceOptions {
  address: string;
  instanceId: string;
  capacity: number;
  ledger: OwnershipLedger;
  /** An instance token and the TLS settings for the gRPC connection; default: plaintext, no token. */
  security?: ConnectionSecurity;
  /** Replaces the gRPC connection underneath the fault switches (tests). */
  transport?: ConnectTransport;
  /** Called each time the instance becomes `up`. */
  onUp?: (instance: VirtualInstance) => void;
  /** Called with a one-line note when something unexpected happens (superseded, rejected). */
  onNote?: (text: string) => void;
  /**
   * Called when the orchestrator refuses a session for its token or certificate
   * (UNAUTHENTICATED, PERMISSION_DENIED): the client keeps retrying, as a token
   * may become valid, but a simulation cannot wait for that.
   */
  onRefused?: (instanceId: string, code: status, details: string) => void;
}

/**
 * One simulated worker: a real {@link InstanceClient} whose start and stop handlers report to
 * the ownership ledger, over a transport that can be partitioned or crashed. Its ledger state
 * follows the client's events: `up` once a full assignment is applied and acked, `connecting`
 * when the session ends, and whatever fault the churn schedule inflicts.
 */
export class VirtualInstance {
  readonly id: string;
  readonly capacity: number;
  readonly #ledger: OwnershipLedger;
  readonly #transport: FaultTransport;
  readonly #client: InstanceClient;
  readonly #options: VirtualInstanceOptions;
  #timer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: VirtualInstanceOptions) {
    this.id = options.instanceId;
    this.capacity = options.capacity;
    this.#options = options;
    this.#ledger = options.ledger;
    this.#ledger.register(this.id, this.capacity);
    this.#transport = new FaultTransport(options.address, options.transport, options.security);
    const ledger = this.#ledger;
    const id = this.id;
    this.#client = new InstanceClient({
      address: options.address,
      instanceId: id,
      capacity: options.capacity,
      labels: { simulated: "true" },
      version: "simulator",
      transport: this.#transport,
      // Quick reconnects keep the measured failovers about the orchestrator, not the backoff.
      backoff: { initialMs: 50, maxMs: 500 },
      onStart: (stream) => ledger.started(id, stream.id),
      onStop: (streamId) => ledger.stopped(id, streamId),
    });
    this.#client.on("assignment", (event) => {
      if (event.full && event.acked && this.state === "connecting") this.#setState("up");
    });
    this.#client.on("disconnected", ({ code, details }) => {
      if (this.state === "up") this.#setState("connecting");
      if (code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED) options.onRefused?.(id, code, details);
    });
    this.#client.on("superseded", ({ details }) => options.onNote?.(`${id} superseded: ${details}`));
    this.#client.on("rejected", ({ details }) => options.onNote?.(`${id} rejected: ${details}`));
    // Without a listener the client keeps errors to itself; the notes above cover what matters.
    this.#client.on("error", () => undefined);
  }

  get state(): InstanceState {
    return this.#ledger.state(this.id) ?? "connecting";
  }

  /** Starts connecting. */
  start(): void {
    this.#client.start();
  }

  /** Crashes for good: no leave, connection gone, its streams vanish with it. */
  kill(): void {
    this.#clearTimer();
    this.#transport.crash();
    this.#ledger.forget(this.id);
    // Only to stop the reconnect loop: its stops go nowhere (the ledger forgot the instance)
    // and its leave is lost with the crashed connection.
    this.#closed = this.#client.close("killed");
  }

  /** Goes silent in both directions for `lengthMs`, then recovers by itself. */
  partition(lengthMs: number): void {
    this.#clearTimer();
    this.#setState("partitioned");
    this.#transport.partition();
    this.#timer = setTimeout(() => this.heal(), lengthMs);
  }

  /** Ends a partition now; a session the server ended meanwhile is replaced by a new one. */
  heal(): void {
    if (this.state !== "partitioned") return;
    this.#clearTimer();
    const ended = this.#transport.heal();
    this.#setState(ended ? "connecting" : "up");
  }

  /** Crashes the connection, stays down for `lengthMs`, then reconnects with what it holds. */
  restart(lengthMs: number): void {
    this.#clearTimer();
    this.#transport.crash();
    this.#setState("down");
    this.#timer = setTimeout(() => this.#revive(), lengthMs);
  }

  /** Stops everything and leaves gracefully. */
  leave(): Promise<void> {
    this.#clearTimer();
    this.#setState("leaving");
    this.#closed ??= this.#client.close("leave").then(() => this.#setState("left"));
    return this.#closed;
  }

  /** End of the simulation: heal or revive first, so the leave reaches the orchestrator. */
  shutdown(): Promise<void> {
    if (this.state === "partitioned") this.heal();
    if (this.state === "down") this.#revive();
    if (this.#closed) return this.#closed;
    return this.leave();
  }

  #revive(): void {
    this.#clearTimer();
    this.#transport.revive();
    this.#setState("connecting");
  }

  #setState(state: InstanceState): void {
    if (this.state === state || this.state === "dead" || this.state === "left") return;
    this.#ledger.setState(this.id, state);
    if (state === "up") this.#options.onUp?.(this);
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
