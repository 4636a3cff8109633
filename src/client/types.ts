import type { ChannelCredentials, ChannelOptions, StatusObject } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { ConnectRequest, ConnectResponse, SystemMetrics } from "../gen/orchestrator/v1/orchestrator.js";
import type { HostResolver } from "./address-resolver.js";
import type { ClientTls } from "./connection-security.js";

/** A radio stream this instance runs, as granted by the orchestrator. */
export interface RunningStream {
  readonly id: string;
  readonly url: string;
  readonly name: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Fencing token of the grant; strictly larger for every new grant of the stream. */
  readonly epoch: number;
}

/**
 * Why a stream is stopped:
 * - `revoked`: the orchestrator took it away (incremental remove, or missing from a full assignment);
 * - `lease-lost`: strict mode: the lease ran out (no heartbeat acknowledged for that long, on an
 *   open session or while disconnected); the orchestrator may give the stream to another
 *   instance from then on;
 * - `superseded`: another process connected with the same instance id and owns the streams now;
 * - `shutdown`: `close()` was called.
 */
export type StopReason = "revoked" | "lease-lost" | "superseded" | "shutdown";

/** Starts a stream. A throw or rejection means the stream is not running. */
export type StartHandler = (stream: RunningStream) => Promise<void> | void;

/** Stops a stream. A throw or rejection is logged; the stream counts as stopped anyway. */
export type StopHandler = (streamId: string, reason: StopReason) => Promise<void> | void;

/** Told about a new epoch of a stream that keeps running (no restart). */
export type EpochChangeHandler = (stream: RunningStream, previousEpoch: number) => Promise<void> | void;

/** Host metrics sent with heartbeats; every field is optional. */
export type InstanceMetrics = Partial<SystemMetrics>;

/** Reconnect backoff: full jitter, a random delay in [0, min(maxMs, initialMs * 2^attempt)). */
export interface BackoffOptions {
  /** Ceiling of the first retry delay. Default 100. */
  initialMs?: number;
  /** Largest ceiling. Default 1000 (or initialMs, if larger). */
  maxMs?: number;
}

/** What to do after another process took over this instance id. */
export interface SupersededPolicy {
  /** Keep trying to reconnect (slowly) instead of giving up. Default true. */
  reconnect?: boolean;
  /** Delay before each such reconnect. Default 15000 (slow: the other process is meant to win). */
  delayMs?: number;
}

/** One Connect call, as far as the client uses it; a grpc-js `ClientDuplexStream` satisfies it. */
export interface ConnectCall {
  write(message: ConnectRequest, callback?: (error: Error | null | undefined) => void): boolean;
  /** Half-closes the request side. */
  end(): void;
  cancel(): void;
  on(event: "data", listener: (message: ConnectResponse) => void): this;
  on(event: "status", listener: (status: StatusObject) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
}

/** One place to dial: a configured address, a leader's address a replica named, or one record of a name. */
export interface Endpoint {
  /** `host:port` to connect to. */
  readonly address: string;
  /**
   * Set when `address` is one of several records a host name resolved to: that name, which TLS
   * checks the certificate against and the call's authority names, as when dialling the name.
   */
  readonly serverName?: string;
}

/** Opens Connect calls. The default talks gRPC to the orchestrator; tests and simulators may pass a fake. */
export interface ConnectTransport {
  /** Opens a call to `endpoint` (a transport bound to one place may ignore it). */
  open(endpoint?: Endpoint): ConnectCall;
  /** Releases the channel; called once by `close()`. */
  close(): void;
}

/** Options of {@link InstanceClient}. */
export interface InstanceClientOptions {
  /**
   * Orchestrator address, `host:port`; or, for several replicas (one leader, standbys), several:
   * an array or a comma-separated string ("a:50051,b:50051"). They are tried in order until one
   * welcomes the instance; a replica that names the leader in its go_away is tried next. A host
   * name with several address records counts as one address per record.
   */
  address: string | readonly string[];
  /**
   * Resolves host names to their address records (each cycle through the addresses). Default: the
   * system's resolver; with a `transport` of your own, none (addresses are passed to it as given).
   */
  resolver?: HostResolver;
  /** Unique, stable id of this instance (1 to 128 characters). */
  instanceId: string;
  /** The most streams this instance takes at once (integer, 0 to 10000). */
  capacity: number;
  labels?: Record<string, string>;
  version?: string;
  /** Sent as `authorization: Bearer <token>` (INSTANCE_TOKENS on the orchestrator). */
  token?: string;
  /** TLS: true for the system's roots, or a CA (and a client certificate for mutual TLS). Default: plaintext. */
  tls?: true | ClientTls;
  /** grpc-js credentials of your own; replaces `tls`. */
  credentials?: ChannelCredentials;
  onStart: StartHandler;
  onStop: StopHandler;
  onEpochChange?: EpochChangeHandler;
  /**
   * Sampled for heartbeats, one call at a time: each heartbeat waits at most a tenth of an
   * interval for it, then goes with the last metrics known (the call keeps running). A
   * throw or rejection sends the heartbeat without metrics. Keep it quick.
   */
  metrics?: () => InstanceMetrics | Promise<InstanceMetrics>;
  /**
   * Never run a stream the orchestrator may have given to another instance: stop every stream
   * (reason `lease-lost`) once the lease runs out, counted from when the last acknowledged
   * heartbeat was sent, connected or not: a break shorter than that costs nothing (the
   * orchestrator moves nothing before the lease is over); a lease that runs out on an open
   * session also ends that session.
   * Default false: streams keep running while the orchestrator is unreachable, and may then run
   * on a new owner too until this instance reconnects (README, "Faults").
   */
  strict?: boolean;
  backoff?: BackoffOptions;
  superseded?: SupersededPolicy;
  /** Give up on a session that sent no welcome this long after opening. Default 15000. */
  welcomeTimeoutMs?: number;
  /** How long `close()` and go_away wait for the server to end the call before cancelling. Default 2000. */
  closeTimeoutMs?: number;
  /** Default: silent. */
  logger?: Logger;
  /** grpc-js channel options, merged over the client's keepalive defaults. */
  channelOptions?: ChannelOptions;
  /** Replaces the gRPC transport (then `credentials` and `channelOptions` are unused, and its `open` gets each endpoint). */
  transport?: ConnectTransport;
}

/** Payload of the `welcome` event. */
export interface WelcomeEvent {
  sessionId: string;
  /** The address that welcomed the instance (the leader). */
  address: string;
  heartbeatIntervalMs: number;
  leaseTtlMs: number;
}

/** The outcome of applying one assignment. */
export interface ApplyResult {
  seq: number;
  full: boolean;
  /** Streams started by this assignment. */
  added: string[];
  /** Streams stopped by this assignment. */
  removed: string[];
  /** Running streams whose epoch changed (not restarted). */
  updated: string[];
  /** Streams whose start handler failed; they are not running. */
  failed: string[];
}

/** Payload of the `assignment` event, emitted once an assignment is applied and its ack written. */
export interface AssignmentEvent extends ApplyResult {
  /** False when the session ended before the ack could be written. */
  acked: boolean;
}

/** Payload of the `disconnected` event, emitted whenever a Connect call ends. */
export interface DisconnectedEvent {
  /** gRPC status code (`status` of @grpc/grpc-js). */
  code: number;
  details: string;
  /** The session that ended, when it had been welcomed. */
  sessionId?: string;
  /** The address the call went to. */
  address: string;
}

/** Events of {@link InstanceClient}. */
export interface InstanceClientEvents {
  welcome: [WelcomeEvent];
  assignment: [AssignmentEvent];
  disconnected: [DisconnectedEvent];
  /** Another process connected with this instance id; our streams were stopped. */
  superseded: [{ details: string }];
  /** The orchestrator rejected the hello (configuration error); the client stopped reconnecting. */
  rejected: [{ details: string }];
  /** Strict mode stopped every stream after the lease ran out while disconnected. */
  leaseLost: [{ stopped: string[] }];
  /** Only emitted when a listener is attached, so an embedding process is never crashed by it. */
  error: [Error];
}
