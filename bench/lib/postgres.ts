/**
 * A throw-away PostgreSQL cluster for one benchmark run: embedded, in a temp
 * folder removed at the end, on a free loopback port. Each scenario gets a
 * fresh database owned by a role of its own ("finger"), so statements the
 * orchestrator runs can be told apart from the benchmark's own queries.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded-postgres.js";
import { createLogger } from "../../src/log/logger.js";
import { freePort } from "../../src/net/free-port.js";
import { onCleanup } from "./process.js";

/** The role the orchestrator connects as. Loopback only, throw-away cluster: not a credential. */
export const ORCHESTRATOR_ROLE = "finger";
const ORCHESTRATOR_PASSWORD = "finger-bench";

export interface BenchPostgres {
  port: number;
  /** Superuser URL of the `postgres` database (where the benchmark counts from). */
  adminUrl: string;
  /** Pid of the postmaster (its backends are its children). */
  postmasterPid: number;
  /** Creates an empty database owned by the orchestrator role and returns the orchestrator's URL for it. */
  createDatabase(name: string): Promise<string>;
  /** Runs one query as superuser in the `postgres` database. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  stop(): Promise<void>;
}

/**
 * Starts the cluster. With `statements`, pg_stat_statements is preloaded and
 * created in the `postgres` database.
 */
export async function startBenchPostgres(options: { statements?: boolean } = {}): Promise<BenchPostgres> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "finger-bench-pg-"));
  const port = await freePort();
  const extraFlags = ["-c", "max_connections=200"];
  if (options.statements) extraFlags.push("-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track_utility=on");
  let embedded: EmbeddedDatabase;
  try {
    embedded = await startEmbeddedPostgres({
      dataDir,
      port,
      database: "postgres",
      logger: createLogger({ level: "warn", format: "json" }),
      extraFlags,
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const postmasterPid = Number(readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
  const admin = new pg.Client({ connectionString: embedded.url });
  await admin.connect();
  await admin.query(`create role ${ORCHESTRATOR_ROLE} login password '${ORCHESTRATOR_PASSWORD}'`);
  if (options.statements) await admin.query("create extension if not exists pg_stat_statements");

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await admin.end().catch(() => undefined);
    await embedded.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  onCleanup(stop);
  return {
    port,
    adminUrl: embedded.url,
    postmasterPid,
    async createDatabase(name: string): Promise<string> {
      await admin.query(`create database ${name} owner ${ORCHESTRATOR_ROLE}`);
      return `postgres://${ORCHESTRATOR_ROLE}:${ORCHESTRATOR_PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    query: (text, values) => admin.query(text, values),
    stop,
  };
}
