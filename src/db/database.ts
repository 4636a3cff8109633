import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import pRetry from "p-retry";
import { QUERY_TIMEOUT_MARGIN_MS } from "../config/config.js";
import { classifyDatabaseError } from "./database-errors.js";
import { kyselyPool } from "./kysely-pool.js";
import type { Database } from "./schema.js";
import type { WriteTerm } from "./write-term.js";

/** The application's handle on PostgreSQL. */
export type Db = Kysely<Database>;

// bigint columns (epochs, event ids) stay far below 2^53; numbers are easier to carry around than strings.
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number.parseInt(value, 10);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Where the orchestrator's tables live unless configured otherwise. */
export const DEFAULT_SCHEMA = "orchestrator";

/** Options for {@link createDatabase}. */
export interface DatabaseOptions {
  url: string;
  /** Schema of the orchestrator's tables; sessions search only there, so a users' `public.streams` never collides. */
  schema?: string;
  poolSize: number;
  statementTimeoutMs: number;
  /** Client-side bound of every query; by default a little above the statement timeout. */
  queryTimeoutMs?: number;
  applicationName?: string;
  /** The leadership term writes are made for; none: writes are not fenced (tools, tests). */
  writeTerm?: WriteTerm;
}

/** The longest wait for a new connection (or a free one when the pool is full). */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Creates a Kysely instance over a pg pool whose sessions time out statements
 * and idle transactions, so no transaction can hang or hold locks forever.
 * Those are the server's timeouts; a server that does not answer at all
 * (stopped, frozen, cut off) is caught on this side: connecting and every
 * query are bounded, and TCP keepalive notices a peer that vanished while a
 * connection was idle.
 */
export function createDatabase(options: DatabaseOptions): { db: Db; pool: pg.Pool } {
  const queryTimeoutMs = options.queryTimeoutMs ?? options.statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: options.statementTimeoutMs,
    query_timeout: queryTimeoutMs,
    connectionTimeoutMillis: Math.min(CONNECT_TIMEOUT_MS, queryTimeoutMs),
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: options.applicationName ?? "finger-orchestrator",
    options: `-c search_path=${options.schema ?? DEFAULT_SCHEMA}`,
    types,
  });
  // An idle client that loses its connection emits here; the pool replaces it.
  pool.on("error", () => undefined);
  // A checked-out client has no pool listener; without one, a connection lost
  // mid-transaction would be an unhandled 'error' and kill the process. The
  // query in flight still fails, and the transaction is retried.
  pool.on("connect", (client) => client.on("error", () => undefined));
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: kyselyPool(pool, queryTimeoutMs, options.writeTerm) }) }), pool };
}

/** One round trip on a pooled connection: throws when the database does not answer. */
export async function pingDatabase(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("select 1");
    client.release();
  } catch (error) {
    // A connection that failed its ping (or whose ping is still in flight after a timeout) is not handed out again.
    client.release(error as Error);
    throw error;
  }
}

/**
 * Waits until the database answers, retrying with backoff for at most `timeoutMs`.
 * @throws Error naming the cause (refused, authentication, unknown database...).
 */
export async function waitForDatabase(pool: pg.Pool, timeoutMs: number): Promise<void> {
  const started = performance.now();
  await pRetry(
    () => pingDatabase(pool),
    {
      retries: 1_000,
      minTimeout: 200,
      maxTimeout: 2_000,
      // Anything that makes the database unavailable may pass while it starts; a wrong password or database name will not.
      shouldRetry: (error) => performance.now() - started < timeoutMs && classifyDatabaseError(error)?.kind === "unavailable",
    },
  );
}
