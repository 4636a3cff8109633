import { credentials, type ClientDuplexStream, type ServiceError } from "@grpc/grpc-js";
import {
  OrchestratorServiceClient,
  type Assignment,
  type ConnectRequest,
  type ConnectResponse,
  type Hello,
} from "../../src/gen/orchestrator/v1/orchestrator.js";
import { ownedStreams } from "./owned-streams.js";

/**
 * A bare Connect stream driven by hand, for protocol cases the real client
 * never produces (no hello, bad hello, silence, stale holdings).
 */
export class RawSession {
  readonly client: OrchestratorServiceClient;
  readonly call: ClientDuplexStream<ConnectRequest, ConnectResponse>;
  readonly received: ConnectResponse[] = [];
  readonly ended: Promise<ServiceError | null>;
  private waiters: Array<() => void> = [];

  private readonly ownClient: boolean;

  /** On a connection of its own, as a real instance has (the server admits few sessions per connection), or on `shared`. */
  constructor(address: string, shared?: OrchestratorServiceClient) {
    this.ownClient = shared === undefined;
    this.client = shared ?? new OrchestratorServiceClient(address, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    this.call = this.client.connect();
    this.call.on("data", (m: ConnectResponse) => {
      this.received.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => {
      this.call.on("error", (e: ServiceError) => resolve(e));
      this.call.on("end", () => resolve(null));
    });
  }

  /** When this session last sent anything (ms since epoch). */
  lastSentAt = 0;

  send(message: ConnectRequest["msg"]): void {
    this.lastSentAt = Date.now();
    this.call.write({ msg: message });
  }

  hello(hello: Partial<Hello> & { instanceId: string }): void {
    this.send({ $case: "hello", value: { capacity: 10, held: [], labels: {}, version: "test", ...hello } });
  }

  /** Resolves with the first received message matching `predicate` (waiting up to `timeoutMs`). */
  async waitFor<T>(pick: (m: ConnectResponse) => T | undefined, timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const m of this.received) {
        const hit = pick(m);
        if (hit !== undefined) return hit;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  assignments(): Assignment[] {
    return this.received.flatMap((m) => (m.msg?.$case === "assignment" ? [m.msg.value] : []));
  }

  /** Acknowledges every assignment as soon as it arrives (an instance that starts and stops instantly). */
  autoAck(): this {
    this.call.on("data", (m: ConnectResponse) => {
      if (m.msg?.$case === "assignment") this.send({ $case: "ack", value: { seq: m.msg.value.seq } });
    });
    return this;
  }

  /** Sends a heartbeat every `ms` until stopped or closed. */
  heartbeatEvery(ms: number): () => void {
    const timer = setInterval(() => this.send({ $case: "heartbeat", value: { runningStreams: 0, seq: 0 } }), ms);
    this.call.on("close", () => clearInterval(timer));
    this.ended.then(() => clearInterval(timer), () => clearInterval(timer));
    return () => clearInterval(timer);
  }

  /** Streams this session should be running, from the assignments received so far. */
  owned(): Map<string, number> {
    return ownedStreams(this.assignments());
  }

  close(): void {
    this.call.cancel();
    if (this.ownClient) this.client.close();
  }
}

/** Picks the welcome message. */
export const welcome = (m: ConnectResponse) => (m.msg?.$case === "welcome" ? m.msg.value : undefined);
/** Picks the first full assignment. */
export const fullAssignment = (m: ConnectResponse) => (m.msg?.$case === "assignment" && m.msg.value.full ? m.msg.value : undefined);
