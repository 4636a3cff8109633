import { hostname } from "node:os";
import { z } from "zod";
import { IDENTIFICATION_WINDOW_MS } from "../domain/limits.js";
import { ConfigError } from "./config-error.js";
import { parseSecurityConfig, type SecurityConfig } from "./security-config.js";

export { ConfigError };

const whole = (rule: string) => z.coerce.number({ error: rule }).int({ error: rule });
const port = (fallback: number) =>
  whole("must be a port number from 0 to 65535").min(0, "must be a port number from 0 to 65535").max(65535, "must be a port number from 0 to 65535").default(fallback);
const positiveMs = (fallback: number) =>
  whole("must be a whole number of milliseconds").min(1, "must be at least 1 ms").max(86_400_000, "must be at most one day").default(fallback);
const text = z.string().trim().min(1);

/**
 * How much longer than the server's statement timeout the client waits for an
 * answer by default: a slow statement is ended by the server first (a clean
 * error, its locks released, the connection still usable); only a server that
 * says nothing at all meets the client-side bound.
 */
export const QUERY_TIMEOUT_MARGIN_MS = 5_000;

/** Variables read from the environment, named as operators set them. */
const envSchema = z.object({
  GRPC_PORT: port(50051),
  HTTP_PORT: port(8080),
  BIND_HOST: text.default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .trim()
    .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
    .optional(),
  POSTGRES_HOST: text.optional(),
  POSTGRES_PORT: port(5432),
  POSTGRES_USER: text.default("postgres"),
  POSTGRES_PASSWORD: z.string().default(""),
  POSTGRES_DB: text.default("postgres"),
  DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case PostgreSQL identifier")
    .default("orchestrator"),
  STREAMS_SOURCE_TABLE: z
    .string()
    .trim()
    .regex(/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/, "must be a table name such as public.streams")
    .optional(),
  STREAMS_SYNC_INTERVAL_MS: positiveMs(2_000),
  DATA_DIR: text.default("./data"),
  EMBEDDED_POSTGRES_PORT: port(5433),
  DB_POOL_SIZE: whole("must be a whole number").min(1, "must be at least 1").max(200, "must be at most 200").default(10),
  DB_STATEMENT_TIMEOUT_MS: positiveMs(30_000),
  DB_CONNECT_TIMEOUT_MS: positiveMs(15_000),
  DB_QUERY_TIMEOUT_MS: whole("must be a whole number of milliseconds").min(1, "must be at least 1 ms").max(86_400_000, "must be at most one day").optional(),
  ADMIN_CALL_TIMEOUT_MS: positiveMs(10_000),
  EVENTS_RETENTION_DAYS: whole("must be a whole number of days").min(0, "must not be negative (0 keeps events forever)").max(36_500, "must be at most 36500").default(30),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  SHUTDOWN_TIMEOUT_MS: positiveMs(10_000),
  // A strict instance's streams move once its lease is over, even after a clean break, so the lease
  // sets the failover time: 6 s, renewed every 2 s (README, "Why a stream never runs on two strict instances").
  HEARTBEAT_INTERVAL_MS: positiveMs(2_000),
  LEASE_TTL_MS: positiveMs(6_000),
  SUSPECT_AFTER_MS: whole("must be a whole number of milliseconds").min(1, "must be at least 1 ms").max(86_400_000, "must be at most one day").optional(),
  RECONNECT_GRACE_MS: positiveMs(3_000),
  HELLO_TIMEOUT_MS: positiveMs(10_000),
  LAST_SEEN_PERSIST_MS: positiveMs(10_000),
  LIVE_MOVES_PER_SECOND: z.coerce.number({ error: "must be a number" }).min(0, "must not be negative").max(1_000_000, "must be at most 1000000").default(50),
  LIVE_MOVES_BURST: whole("must be a whole number").min(0, "must not be negative").max(1_000_000, "must be at most 1000000").default(200),
  // Must hold the largest full assignment with room to spare: 10,000 streams with a URL, a
  // name and a few metadata entries encode to about 2.7 MB, with long URLs and ten 40-character
  // metadata values to about 8.4 MB (README, "An instance that stops reading").
  SESSION_QUEUE_LIMIT_BYTES: whole("must be a whole number of bytes")
    .min(65_536, "must be at least 65536 (64 KiB)")
    .max(1_073_741_824, "must be at most 1073741824 (1 GiB)")
    .default(16 * 1024 * 1024),
  MAX_SESSIONS: whole("must be a whole number").min(1, "must be at least 1").max(1_000_000, "must be at most 1000000").default(20_000),
  MAX_SESSIONS_PER_CONNECTION: whole("must be a whole number").min(1, "must be at least 1").max(1_000_000, "must be at most 1000000").default(16),
  SESSION_MESSAGES_PER_SECOND: z.coerce.number({ error: "must be a number" }).min(1, "must be at least 1").max(1_000_000, "must be at most 1000000").default(20),
  SESSION_MESSAGE_BURST: whole("must be a whole number").min(1, "must be at least 1").max(1_000_000, "must be at most 1000000").default(100),
  PLACEMENT_SETTLE_MS: whole("must be a whole number of milliseconds").min(0, "must not be negative (0 turns the settle window off)").max(60_000, "must be at most 60000").default(1_000),
  PLACEMENT_SETTLE_MAX_MS: whole("must be a whole number of milliseconds").min(0, "must not be negative").max(600_000, "must be at most 600000").default(5_000),
  PLACEMENT_EXPECTED_INSTANCES: whole("must be a whole number").min(0, "must not be negative (0: the fleet's size is not known)").max(1_000_000, "must be at most 1000000").default(0),
  PLACEMENT_SETTLE_MIN_STREAMS: whole("must be a whole number").min(1, "must be at least 1").max(10_000_000, "must be at most 10000000").default(100),
  WARM_UP_MS: whole("must be a whole number of milliseconds").min(0, "must not be negative").max(3_600_000, "must be at most one hour").default(IDENTIFICATION_WINDOW_MS),
  RESTART_LEASE_MS: whole("must be a whole number of milliseconds").min(0, "must not be negative (0 promises nothing)").max(600_000, "must be at most 600000 (ten minutes)").default(30_000),
  MAX_RETURN_WITHIN_MS: whole("must be a whole number of milliseconds").min(0, "must not be negative (0 turns leaving to return off)").max(3_600_000, "must be at most one hour").default(120_000),
  MAX_WATCHERS: whole("must be a whole number").min(1, "must be at least 1").max(100_000, "must be at most 100000").default(64),
  LEADER_ELECTION: z.enum(["single", "replicas"], { error: "must be single or replicas" }).default("single"),
  LEADER_LEASE_MS: whole("must be a whole number of milliseconds").min(500, "must be at least 500").max(600_000, "must be at most 600000").default(5_000),
  ADVERTISE_ADDRESS: text.regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:,\/]+):\d{1,5}$/, "must be host:port, the address instances reach this replica at").optional(),
});

/** Where the orchestrator keeps its state. */
export type DatabaseTarget =
  | { kind: "url"; url: string }
  | { kind: "embedded"; dataDir: string; port: number };

/** Validated configuration; built once at start-up. */
export interface Config {
  grpcPort: number;
  httpPort: number;
  bindHost: string;
  database: DatabaseTarget;
  /** Schema holding the orchestrator's own tables, apart from the users' tables. */
  dbSchema: string;
  dbPoolSize: number;
  /** The users' own streams table to follow (schema-qualified), if any. */
  streamsSourceTable?: string;
  streamsSyncIntervalMs: number;
  dbStatementTimeoutMs: number;
  dbConnectTimeoutMs: number;
  /** Client-side bound of every database query, for a server that does not answer. */
  dbQueryTimeoutMs: number;
  /** How long an AdminService unary call may take before it ends with UNAVAILABLE. */
  adminCallTimeoutMs: number;
  /** Audit events older than this many days are pruned; 0 keeps them forever. */
  eventsRetentionDays: number;
  logLevel: string;
  logFormat: "json" | "pretty";
  shutdownTimeoutMs: number;
  heartbeatIntervalMs: number;
  leaseTtlMs: number;
  /** Silence after which a still-leased instance gets no new streams. */
  suspectAfterMs: number;
  reconnectGraceMs: number;
  helloTimeoutMs: number;
  /** How stale the persisted last-seen and metrics of an instance may get. */
  seenPersistMs: number;
  liveMovesPerSecond: number;
  liveMovesBurst: number;
  /** Bytes that may wait for an instance that does not read before its session is ended. */
  sessionQueueLimitBytes: number;
  /** Open Connect sessions in all and on one TCP connection. */
  maxSessions: number;
  maxSessionsPerConnection: number;
  /** Each session's message rate: a token bucket; a session over it is ended. */
  sessionMessagesPerSecond: number;
  sessionMessageBurst: number;
  /** Concurrent WatchEvents calls. */
  maxWatchers: number;
  /** A stream that ran longer than this has warmed up; moving it is counted (finger_warm_streams_moved_total). */
  warmUpMs: number;
  /** Placing a large backlog waits for arrivals to pause (placement-settle.ts). */
  placementSettle: { settleMs: number; maxMs: number; minBacklog: number; expectedInstances: number };
  /** The lease a shutting-down orchestrator promises in its go_away, so that strict instances keep running through its restart. */
  restartLeaseMs: number;
  /** The longest a restarting instance's streams wait for it, unrun (a leave with return_within_ms). */
  maxReturnWithinMs: number;
  /** TLS files, tokens, and what stays open (README, "Security"). */
  security: SecurityConfig;
  /** One orchestrator, or replicas electing a leader (README, "Several replicas"). */
  leadership: { mode: "single" | "replicas"; leaseMs: number; advertiseAddress: string };
}

function describeIssue(issue: z.core.$ZodIssue, env: NodeJS.ProcessEnv): string {
  const name = String(issue.path[0] ?? "configuration");
  const value = env[name];
  const shown = /PASSWORD|DATABASE_URL/.test(name) ? "(hidden)" : JSON.stringify(value);
  return `invalid ${name}=${shown}: ${issue.message}`;
}

function postgresUrl(e: z.infer<typeof envSchema>): string {
  const user = encodeURIComponent(e.POSTGRES_USER);
  const password = e.POSTGRES_PASSWORD ? `:${encodeURIComponent(e.POSTGRES_PASSWORD)}` : "";
  return `postgres://${user}${password}@${e.POSTGRES_HOST}:${e.POSTGRES_PORT}/${encodeURIComponent(e.POSTGRES_DB)}`;
}

/**
 * Reads and validates the configuration.
 * @throws ConfigError naming the first offending variable and the rule it breaks.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stdout.isTTY)): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => describeIssue(i, env)).join("; "));
  }
  const e = parsed.data;
  if (e.DATABASE_URL && e.POSTGRES_HOST) {
    throw new ConfigError("set either DATABASE_URL or POSTGRES_HOST, not both");
  }
  if (e.LEASE_TTL_MS <= e.HEARTBEAT_INTERVAL_MS) {
    throw new ConfigError(
      `invalid LEASE_TTL_MS=${e.LEASE_TTL_MS}: must be larger than HEARTBEAT_INTERVAL_MS=${e.HEARTBEAT_INTERVAL_MS}`,
    );
  }
  // By default a heartbeat may be up to half an interval late before the instance
  // gets no new work; a missed one (two intervals of silence) is past that.
  const suspectAfterMs = e.SUSPECT_AFTER_MS ?? Math.min(e.LEASE_TTL_MS, Math.round(1.5 * e.HEARTBEAT_INTERVAL_MS));
  if (suspectAfterMs <= e.HEARTBEAT_INTERVAL_MS || suspectAfterMs > e.LEASE_TTL_MS) {
    throw new ConfigError(
      `invalid SUSPECT_AFTER_MS=${suspectAfterMs}: must be larger than HEARTBEAT_INTERVAL_MS=${e.HEARTBEAT_INTERVAL_MS} and at most LEASE_TTL_MS=${e.LEASE_TTL_MS}`,
    );
  }
  const dbQueryTimeoutMs = e.DB_QUERY_TIMEOUT_MS ?? e.DB_STATEMENT_TIMEOUT_MS + QUERY_TIMEOUT_MARGIN_MS;
  if (dbQueryTimeoutMs <= e.DB_STATEMENT_TIMEOUT_MS) {
    throw new ConfigError(
      `invalid DB_QUERY_TIMEOUT_MS=${dbQueryTimeoutMs}: must be larger than DB_STATEMENT_TIMEOUT_MS=${e.DB_STATEMENT_TIMEOUT_MS} (lower both to give up sooner)`,
    );
  }
  if (e.STREAMS_SOURCE_TABLE && e.STREAMS_SOURCE_TABLE.split(".")[0] === e.DB_SCHEMA) {
    throw new ConfigError(`invalid STREAMS_SOURCE_TABLE=${JSON.stringify(e.STREAMS_SOURCE_TABLE)}: must not be in the orchestrator's own schema ${e.DB_SCHEMA}`);
  }
  const database: DatabaseTarget = e.DATABASE_URL
    ? { kind: "url", url: e.DATABASE_URL }
    : e.POSTGRES_HOST
      ? { kind: "url", url: postgresUrl(e) }
      : { kind: "embedded", dataDir: e.DATA_DIR, port: e.EMBEDDED_POSTGRES_PORT };
  if (e.LEADER_ELECTION === "replicas" && database.kind === "embedded") {
    throw new ConfigError("invalid LEADER_ELECTION=replicas: replicas share one database; set DATABASE_URL or POSTGRES_HOST");
  }
  const production = env.NODE_ENV === "production";
  return {
    grpcPort: e.GRPC_PORT,
    httpPort: e.HTTP_PORT,
    bindHost: e.BIND_HOST,
    database,
    dbSchema: e.DB_SCHEMA,
    dbPoolSize: e.DB_POOL_SIZE,
    // Unqualified names would resolve in the orchestrator's own schema, i.e. to its own catalog.
    streamsSourceTable: e.STREAMS_SOURCE_TABLE && !e.STREAMS_SOURCE_TABLE.includes(".") ? `public.${e.STREAMS_SOURCE_TABLE}` : e.STREAMS_SOURCE_TABLE,
    streamsSyncIntervalMs: e.STREAMS_SYNC_INTERVAL_MS,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    dbConnectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    dbQueryTimeoutMs,
    adminCallTimeoutMs: e.ADMIN_CALL_TIMEOUT_MS,
    eventsRetentionDays: e.EVENTS_RETENTION_DAYS,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT ?? (isTty && !production ? "pretty" : "json"),
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    leaseTtlMs: e.LEASE_TTL_MS,
    suspectAfterMs,
    reconnectGraceMs: e.RECONNECT_GRACE_MS,
    helloTimeoutMs: e.HELLO_TIMEOUT_MS,
    seenPersistMs: e.LAST_SEEN_PERSIST_MS,
    liveMovesPerSecond: e.LIVE_MOVES_PER_SECOND,
    liveMovesBurst: e.LIVE_MOVES_BURST,
    sessionQueueLimitBytes: e.SESSION_QUEUE_LIMIT_BYTES,
    maxSessions: e.MAX_SESSIONS,
    maxSessionsPerConnection: e.MAX_SESSIONS_PER_CONNECTION,
    sessionMessagesPerSecond: e.SESSION_MESSAGES_PER_SECOND,
    sessionMessageBurst: e.SESSION_MESSAGE_BURST,
    maxWatchers: e.MAX_WATCHERS,
    maxReturnWithinMs: e.MAX_RETURN_WITHIN_MS,
    restartLeaseMs: e.RESTART_LEASE_MS,
    warmUpMs: e.WARM_UP_MS,
    placementSettle: { settleMs: e.PLACEMENT_SETTLE_MS, maxMs: e.PLACEMENT_SETTLE_MAX_MS, minBacklog: e.PLACEMENT_SETTLE_MIN_STREAMS, expectedInstances: e.PLACEMENT_EXPECTED_INSTANCES },
    security: parseSecurityConfig(env),
    leadership: { mode: e.LEADER_ELECTION, leaseMs: e.LEADER_LEASE_MS, advertiseAddress: e.ADVERTISE_ADDRESS ?? `${hostname()}:${e.GRPC_PORT}` },
  };
}

/** The database URL with its password masked, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable url)";
  }
}
