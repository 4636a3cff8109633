/**
 * In-memory stand-ins for a Connect call, so the client's protocol behaviour is testable
 * without a server. The test plays the orchestrator: it reads what the client wrote and
 * pushes responses or ends the call with a status.
 */
import { EventEmitter } from "node:events";
import { Metadata, status } from "@grpc/grpc-js";
import type { ConnectCall, ConnectTransport, Endpoint } from "../../src/client/index.js";
import type { ConnectRequest, ConnectResponse, Stream } from "../../src/gen/orchestrator/v1/orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

export class FakeCall extends EventEmitter implements ConnectCall {
  readonly written: ConnectRequest[] = [];
  /** performance.now() of each write (the clock the client counts its lease on), so a test can time from when the client sent, not from when it noticed. */
  readonly writtenAt: number[] = [];
  halfClosed = false;
  cancelled = false;
  finished = false;
  /** Like the orchestrator, end the call with OK once the client half-closes. */
  finishOnHalfClose = true;

  /** `endpoint`: where the client opened the call. */
  constructor(readonly endpoint?: Endpoint) {
    super();
  }

  write(message: ConnectRequest, callback?: (error: Error | null | undefined) => void): boolean {
    // A real grpc-js stream errors on write after end; the client must never do it.
    if (this.halfClosed) throw new Error("write after end");
    this.written.push(message);
    this.writtenAt.push(performance.now());
    setImmediate(() => callback?.(null));
    this.emit("written", message);
    return true;
  }

  end(): void {
    this.halfClosed = true;
    this.emit("halfClosed");
    if (this.finishOnHalfClose) this.finish(status.OK);
  }

  cancel(): void {
    this.cancelled = true;
    this.finish(status.CANCELLED, "Cancelled on client");
  }

  /** The orchestrator sends a message. */
  send(msg: NonNullable<ConnectResponse["msg"]>): void {
    this.emit("data", { msg });
  }

  welcome(sessionId = "s1", heartbeatIntervalMs = 60_000, leaseTtlMs = 60_000, reconnectGraceMs = 0): void {
    this.send({ $case: "welcome", value: { sessionId, heartbeatIntervalMs, leaseTtlMs, reconnectGraceMs } });
  }

  assign(seq: number, full: boolean, add: Stream[], remove: string[] = []): void {
    this.send({ $case: "assignment", value: { seq, full, add, remove } });
  }

  /** The orchestrator sends go_away; a standby's, or a deposed leader's, may name the leader. */
  goAway(reason: string, leaderAddress = "", reconnectAfterMs = 0, leaseExtensionMs = 0): void {
    this.send({ $case: "goAway", value: { reason, reconnectAfterMs, leaseExtensionMs, leaderAddress } });
  }

  /**
   * Answers as a standby replica does: go_away naming the leader (or no one), then UNAVAILABLE.
   * On the next turn, as from the network, so that it may be called as soon as the call opens.
   */
  standby(leaderAddress = ""): void {
    setImmediate(() => {
      this.goAway("standby", leaderAddress);
      this.finish(status.UNAVAILABLE, `standby replica; the leader is ${leaderAddress || "unknown"}`);
    });
  }

  /** The call ends with a status, asynchronously like grpc-js. */
  finish(code: number, details = ""): void {
    if (this.finished) return;
    this.finished = true;
    setImmediate(() => {
      if (code !== status.OK) this.emit("error", Object.assign(new Error(details), { code }));
      this.emit("status", { code, details, metadata: new Metadata() });
    });
  }

  /** Kinds of the messages written so far, e.g. ["hello", "ack"]. */
  kinds(): string[] {
    return this.written.map((m) => m.msg?.$case ?? "empty");
  }

  acks(): number[] {
    return this.written.flatMap((m) => (m.msg?.$case === "ack" ? [m.msg.value.seq] : []));
  }

  hello() {
    const first = this.written[0]?.msg;
    if (first?.$case !== "hello") throw new Error(`first message is ${first?.$case}, not hello`);
    return first.value;
  }
}

export class FakeTransport implements ConnectTransport {
  readonly calls: FakeCall[] = [];
  closed = false;
  /** Called on every new call, e.g. to end it at once. */
  onOpen: ((call: FakeCall) => void) | undefined;

  open(endpoint?: Endpoint): FakeCall {
    const call = new FakeCall(endpoint);
    this.calls.push(call);
    this.onOpen?.(call);
    return call;
  }

  close(): void {
    this.closed = true;
  }

  /** Where each call was opened, in order. */
  addresses(): Array<string | undefined> {
    return this.calls.map((call) => call.endpoint?.address);
  }

  /** Waits for the call with this index (0-based) to be opened. */
  async call(index: number, timeoutMs = 2_000): Promise<FakeCall> {
    await waitUntil(() => this.calls.length > index, timeoutMs, `call #${index} to be opened`);
    return this.calls[index]!;
  }
}

const unreleased = new Set<() => void>();

/** A promise with its resolve and reject exposed, to hold a handler open. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const release = () => reject(new Error("released after the test"));
  unreleased.add(release);
  void promise.then(
    () => unreleased.delete(release),
    () => unreleased.delete(release),
  );
  return { promise, resolve, reject };
}

/**
 * Fails every handler a test left hanging (typically because an assertion failed first), so
 * cleanup that waits for handlers, like close(), cannot hang the whole file.
 */
export function releaseAllDeferred(): void {
  for (const release of [...unreleased]) release();
}

export function stream(id: string, epoch = 1, extra: Partial<Stream> = {}): Stream {
  return { id, url: `http://radio.test/${id}`, name: `Radio ${id}`, metadata: {}, epoch, ...extra };
}
