import { EventEmitter } from "node:events";
import type { StatusObject } from "@grpc/grpc-js";
import { callMetadata, channelCredentials, createGrpcTransport, type ConnectCall, type ConnectionSecurity, type ConnectTransport, type Endpoint } from "../client/index.js";
import type { ConnectRequest, ConnectResponse } from "../gen/orchestrator/v1/orchestrator.js";

type Inbound =
  | { event: "data"; value: ConnectResponse }
  | { event: "status"; value: StatusObject }
  | { event: "error"; value: Error };

/**
 * One Connect call that can be cut off from the network. While held, nothing the client
 * writes leaves (heartbeats, acks, leave) and nothing the server sent is handed to the
 * client; on release the inbound messages arrive in their original order, the way TCP
 * delivers what was queued once a link comes back. Cancelling is local and always works.
 */
class FaultyCall extends EventEmitter implements ConnectCall {
  readonly #inner: ConnectCall;
  readonly #onEnded: () => void;
  #held: Inbound[] | undefined;
  #endPending = false;
  #cancelled = false;

  constructor(inner: ConnectCall, held: boolean, onEnded: () => void) {
    super();
    this.#inner = inner;
    this.#onEnded = onEnded;
    this.#held = held ? [] : undefined;
    inner.on("data", (value) => this.#deliver({ event: "data", value }));
    inner.on("status", (value) => this.#deliver({ event: "status", value }));
    inner.on("error", (value) => this.#deliver({ event: "error", value }));
  }

  write(message: ConnectRequest, callback?: (error: Error | null | undefined) => void): boolean {
    if (this.#held || this.#cancelled) {
      // Lost on the wire; the writer is not told, just as with a real partition or a dead socket.
      if (callback) queueMicrotask(() => callback(null));
      return true;
    }
    return this.#inner.write(message, callback);
  }

  end(): void {
    if (this.#held) this.#endPending = true;
    else this.#inner.end();
  }

  cancel(): void {
    // What was held would never be read by a cancelled call, and its status must reach the
    // client now, or its session would wait forever for an end the partition swallowed.
    this.#cancelled = true;
    this.#held = undefined;
    this.#inner.cancel();
  }

  hold(): void {
    if (!this.#cancelled) this.#held ??= [];
  }

  /** Delivers what was held; returns whether the call ended meanwhile. */
  release(): boolean {
    const held = this.#held;
    this.#held = undefined;
    if (!held) return false;
    for (const item of held) this.#emit(item);
    if (this.#endPending) {
      this.#endPending = false;
      this.#inner.end();
    }
    return held.some((item) => item.event === "status");
  }

  #deliver(item: Inbound): void {
    if (this.#held) this.#held.push(item);
    else this.#emit(item);
  }

  #emit(item: Inbound): void {
    if (item.event === "error" && this.listenerCount("error") === 0) return;
    this.emit(item.event, item.value);
    if (item.event === "status") this.#onEnded();
  }
}

/**
 * A {@link ConnectTransport} with switches for the faults a simulated worker suffers:
 * `partition()`/`heal()` (silence in both directions, then recovery), and
 * `crash()`/`revive()` (the connection dies at once, and new ones fail until revived).
 */
export class FaultTransport implements ConnectTransport {
  readonly #inner: ConnectTransport;
  readonly #calls = new Set<FaultyCall>();
  #partitioned = false;
  #down = false;

  /**
   * Wraps `inner`; the default is the real gRPC transport with a connection of its own, dialled
   * with `security` (TLS, and the token every Connect call carries).
   */
  constructor(address: string, inner?: ConnectTransport, security: ConnectionSecurity = {}) {
    // A connection of its own (DEFAULT_CHANNEL_OPTIONS' local subchannel pool), so closing a
    // crashed instance's channel really closes its TCP connection.
    this.#inner = inner ?? createGrpcTransport(address, channelCredentials(security), {}, callMetadata(security));
  }

  get partitioned(): boolean {
    return this.#partitioned;
  }

  /** Opens a call to `endpoint` (the replica the client's rotation picked), unless a fault says no. */
  open(endpoint?: Endpoint): ConnectCall {
    if (this.#down) throw new Error("simulated crash: the instance is down");
    if (this.#partitioned) throw new Error("simulated partition: the orchestrator is unreachable");
    const call: FaultyCall = new FaultyCall(this.#inner.open(endpoint), false, () => this.#calls.delete(call));
    this.#calls.add(call);
    return call;
  }

  close(): void {
    this.#inner.close();
  }

  /** Cuts every open call off until {@link heal}. */
  partition(): void {
    this.#partitioned = true;
    for (const call of this.#calls) call.hold();
  }

  /** Ends the partition; true when a call ended during it (the client will reconnect). */
  heal(): boolean {
    this.#partitioned = false;
    let ended = false;
    for (const call of [...this.#calls]) ended = call.release() || ended;
    return ended;
  }

  /**
   * Kills the connection abruptly, the way a crashed worker's does: calls are cancelled
   * without a leave, the channel is closed, and opening new calls fails until {@link revive}.
   */
  crash(): void {
    this.#down = true;
    this.#partitioned = false;
    for (const call of [...this.#calls]) call.cancel();
    this.#calls.clear();
    this.#inner.close();
  }

  /** Lets new calls through again after {@link crash}. */
  revive(): void {
    this.#down = false;
  }
}
