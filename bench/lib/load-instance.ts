/**
 * Load instances: lightweight stand-ins for instances on the generated stub
 * (not the simulator's VirtualInstance, which runs the real client), one Connect call each,
 * hello, auto-acknowledged assignments, heartbeats with a seq (whose
 * heartbeat_ack gives the round trip), and two ways to die (cancel the call and
 * close its channel, or go silent with the connection kept open). Calls may share
 * a channel (one TCP connection for many sessions) or get one of their own.
 * After a session ends an instance keeps what it runs (a non-strict instance
 * does) and says so in its next hello's `held`; bench/lib/leader-follower.ts
 * redials it, to another replica when needed.
 */
import { Metadata, type ChannelCredentials, type ChannelOptions, type ClientDuplexStream, type ServiceError } from "@grpc/grpc-js";
import { callMetadata, channelCredentials, type ConnectionSecurity } from "../../src/client/connection-security.js";
import { DEFAULT_CHANNEL_OPTIONS } from "../../src/client/grpc-transport.js";
import {
  OrchestratorServiceClient,
  type ConnectRequest,
  type ConnectResponse,
} from "../../src/gen/orchestrator/v1/orchestrator.js";

/**
 * The instance client's own channel options (keepalive), plus a local subchannel
 * pool so that every channel really is its own TCP connection, and no channelz
 * bookkeeping (thousands of channels).
 */
export const BENCH_CHANNEL_OPTIONS: ChannelOptions = {
  ...DEFAULT_CHANNEL_OPTIONS,
  "grpc.use_local_subchannel_pool": 1,
  "grpc.enable_channelz": 0,
};

/**
 * Hands out channels: a new one every `perChannel` instances, or a dedicated one,
 * all dialled with `security` (TLS, and the token every Connect call carries).
 */
export class Channels {
  readonly all: OrchestratorServiceClient[] = [];
  /** What every Connect call on these channels carries (the token, if any). */
  readonly metadata: Metadata;
  private readonly credentials: ChannelCredentials;
  private current?: OrchestratorServiceClient;
  private uses = 0;

  constructor(
    readonly address: string,
    readonly perChannel: number,
    security: ConnectionSecurity = {},
  ) {
    this.credentials = channelCredentials(security);
    this.metadata = callMetadata(security);
  }

  private open(address = this.address): OrchestratorServiceClient {
    const client = new OrchestratorServiceClient(address, this.credentials, BENCH_CHANNEL_OPTIONS);
    this.all.push(client);
    return client;
  }

  next(): OrchestratorServiceClient {
    if (!this.current || this.uses >= Math.max(1, this.perChannel)) {
      this.current = this.open();
      this.uses = 0;
    }
    this.uses++;
    return this.current;
  }

  /** A channel (TCP connection) used by one instance only, to this set's address or another replica's. */
  dedicated(address = this.address): OrchestratorServiceClient {
    return this.open(address);
  }

  /** Closes one channel for good (nothing listens where it goes). */
  release(client: OrchestratorServiceClient): void {
    client.close();
    const at = this.all.indexOf(client);
    if (at >= 0) this.all.splice(at, 1);
  }

  closeAll(): void {
    for (const c of this.all) c.close();
    this.all.length = 0;
    this.current = undefined;
  }
}

/** What a load instance reports; the fleet keeps one mutable set so scenarios can swap handlers. */
export interface LoadInstanceHooks {
  /** After an assignment was applied and acknowledged (`at`: performance.now()). */
  assignment?(instance: LoadInstance, change: { full: boolean; added: string[]; removed: string[]; at: number }): void;
  heartbeatAck?(instance: LoadInstance, rttMs: number, at: number): void;
  /** A welcomed session ended (a hello that fails rejects connect() instead). */
  ended?(instance: LoadInstance, reason: string): void;
}

type State = "new" | "connecting" | "ready" | "silent" | "killed" | "ended";

const METRICS = { cpuPercent: 12.5, memoryPercent: 40, loadAverage: [0.5, 0.4, 0.3] };

export class LoadInstance {
  /** Streams it runs, with their epochs. */
  readonly owned = new Map<string, number>();
  state: State = "new";
  welcomedAt = Number.NaN;
  /** performance.now() of the last message it sent. */
  lastSentAt = 0;
  endReason?: string;
  heartbeatsSent = 0;
  heartbeatAcks = 0;
  /** The go_away of the last session, if it sent one (a standby's names the leader). */
  goAway?: { reconnectAfterMs: number; leaderAddress: string };
  private call?: ClientDuplexStream<ConnectRequest, ConnectResponse>;
  private timer?: NodeJS.Timeout;
  private seq = 0;
  private readonly inFlight = new Map<number, number>();

  constructor(
    readonly id: string,
    readonly capacity: number,
    private _client: OrchestratorServiceClient,
    private readonly hooks: LoadInstanceHooks,
    /** The channel is this instance's alone, so killing it closes a TCP connection. */
    readonly dedicated: boolean,
    /** Sent with the Connect call (the token). */
    private readonly metadata: Metadata = new Metadata(),
  ) {}

  get client(): OrchestratorServiceClient {
    return this._client;
  }

  /** The next sessions go over `client` (another replica's channel; whoever opened the old one keeps it). */
  useChannel(client: OrchestratorServiceClient): void {
    this._client = client;
  }

  /** Opens the call and says hello with what it holds; resolves on welcome. */
  connect(timeoutMs = 30_000): Promise<void> {
    this.state = "connecting";
    this.goAway = undefined;
    const call = this._client.connect(this.metadata.clone());
    this.call = call;
    const held = [...this.owned].map(([streamId, epoch]) => ({ streamId, epoch }));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.id}: no welcome within ${timeoutMs} ms`));
        call.cancel();
      }, timeoutMs);
      call.on("data", (m: ConnectResponse) => {
        const msg = m.msg;
        // A call this instance has replaced by a newer one says nothing more.
        if (!msg || this.call !== call) return;
        switch (msg.$case) {
          case "welcome":
            this.welcomedAt = performance.now();
            if (this.state === "connecting") this.state = "ready";
            clearTimeout(timer);
            resolve();
            break;
          case "assignment":
            this.apply(msg.value.seq, msg.value.full, msg.value.add, msg.value.remove);
            break;
          case "heartbeatAck": {
            const at = performance.now();
            const sentAt = this.inFlight.get(msg.value.seq);
            if (sentAt === undefined) break;
            this.inFlight.delete(msg.value.seq);
            this.heartbeatAcks++;
            this.hooks.heartbeatAck?.(this, at - sentAt, at);
            break;
          }
          case "goAway":
            this.goAway = { reconnectAfterMs: msg.value.reconnectAfterMs, leaderAddress: msg.value.leaderAddress };
            break;
          default:
            break;
        }
      });
      const ended = (reason: string) => {
        clearTimeout(timer);
        if (this.call !== call || this.state === "ended" || this.state === "killed") return;
        clearInterval(this.timer);
        const before = this.state;
        this.state = "ended";
        this.endReason = reason;
        if (before === "connecting") reject(new Error(`${this.id}: session ended before welcome: ${reason}`));
        else this.hooks.ended?.(this, reason);
      };
      call.on("error", (e: ServiceError) => ended(`${e.code}: ${e.details}`));
      call.on("end", () => ended("server ended the stream"));
      this.send({ $case: "hello", value: { instanceId: this.id, capacity: this.capacity, held, labels: { bench: "1" }, version: "bench" } });
    });
  }

  private apply(seq: number, full: boolean, add: Array<{ id: string; epoch: number }>, remove: string[]): void {
    if (this.state !== "ready") return; // silent or gone: neither applies nor acknowledges
    const removed: string[] = [];
    if (full) {
      const keep = new Set(add.map((s) => s.id));
      for (const id of this.owned.keys()) if (!keep.has(id)) removed.push(id);
      this.owned.clear();
    }
    for (const id of remove) if (this.owned.delete(id)) removed.push(id);
    const added: string[] = [];
    for (const s of add) {
      this.owned.set(s.id, s.epoch);
      added.push(s.id);
    }
    this.send({ $case: "ack", value: { seq } });
    this.hooks.assignment?.(this, { full, added, removed, at: this.lastSentAt });
  }

  private send(msg: ConnectRequest["msg"]): void {
    if (!this.call || this.state === "silent" || this.state === "killed" || this.state === "ended") return;
    this.lastSentAt = performance.now();
    this.call.write({ msg });
  }

  /** Sends one heartbeat with a fresh seq (its ack reports the round trip). */
  heartbeat(): void {
    if (this.state !== "ready") return;
    const seq = ++this.seq;
    this.inFlight.set(seq, performance.now());
    // A lost ack must not leak: anything older than a few heartbeats is forgotten.
    if (this.inFlight.size > 8) this.inFlight.delete(this.inFlight.keys().next().value!);
    this.heartbeatsSent++;
    this.send({ $case: "heartbeat", value: { metrics: METRICS, runningStreams: this.owned.size, seq } });
  }

  /** A heartbeat sent at or before `at` (performance.now()) still waits for its ack; the few newest are tracked. */
  awaitsAckSentBefore(at: number): boolean {
    for (const sentAt of this.inFlight.values()) if (sentAt <= at) return true;
    return false;
  }

  /** Heartbeats every `intervalMs`, the first after `firstDelayMs` (spreads a fleet's heartbeats evenly). */
  heartbeatEvery(intervalMs: number, firstDelayMs = Math.random() * intervalMs): void {
    clearInterval(this.timer);
    this.timer = setTimeout(() => {
      this.heartbeat();
      this.timer = setInterval(() => this.heartbeat(), intervalMs);
    }, firstDelayMs);
  }

  stopHeartbeats(): void {
    clearTimeout(this.timer);
    clearInterval(this.timer);
  }

  /** Broken connection: the call is cancelled and, when the channel is its own, the channel closed. */
  kill(): void {
    this.stopHeartbeats();
    this.state = "killed";
    this.call?.cancel();
    if (this.dedicated) this.client.close();
  }

  /** Silent death: sends nothing more (no heartbeats, no acks) but keeps the connection open. */
  silence(): void {
    this.stopHeartbeats();
    if (this.state === "ready") this.state = "silent";
  }

  leave(reason = "bench done"): void {
    this.stopHeartbeats();
    this.send({ $case: "leave", value: { reason, returnWithinMs: 0 } });
    this.call?.end();
    this.state = "ended";
  }
}
