/**
 * The PostgreSQL a benchmark run makes its databases on: by default a
 * throw-away embedded cluster (temp folder, free loopback port, removed at the
 * end); with `--database-url`, a server that is already running (a test
 * server, so a smoke run skips initdb, start and stop), where the run's
 * databases and role are dropped again at the end. Each scenario gets a fresh
 * database owned by a role of the run's own, so statements the orchestrator
 * runs can be told apart from the benchmark's own queries.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { startThrowawayPostgres } from "../../test/helpers/throwaway-postgres.js";
import { EMBEDDED } from "./args.js";
import { onCleanup } from "./process.js";
import { redactUrl } from "./report.js";

export interface BenchPostgres {
  /** The role the orchestrator connects as. */
  role: string;
  /** Pid of the postmaster (its backends are its children), on the run's own cluster only: a shared server's CPU is not the run's. */
  postmasterPid?: number;
  /** Creates an empty database owned by the orchestrator role and returns the orchestrator's URL for it. */
  createDatabase(name: string): Promise<string>;
  /** Runs one query as superuser in the database of the superuser URL. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  stop(): Promise<void>;
}

interface Server {
  /** Superuser URL. */
  url: string;
  postmasterPid?: number;
  stop(): Promise<void>;
}

async function embeddedServer(statements: boolean): Promise<Server> {
  const extraFlags = ["-c", "max_connections=200"];
  if (statements) extraFlags.push("-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track_utility=on");
  const cluster = await startThrowawayPostgres("bench", extraFlags);
  const postmasterPid = Number(readFileSync(path.join(cluster.dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
  return { url: cluster.url, postmasterPid, stop: () => cluster.stop() };
}

/** The database benchmark counts from pg_stat_statements, BEGIN and COMMIT included: a given server must allow that. */
async function checkStatements(admin: pg.Client, url: string): Promise<void> {
  const { rows } = await admin.query<{ preload: string }>("select current_setting('shared_preload_libraries') as preload");
  if (!/\bpg_stat_statements\b/.test(rows[0]!.preload)) {
    throw new Error(`${redactUrl(url)} does not preload pg_stat_statements (shared_preload_libraries=pg_stat_statements); leave --database-url out to use an embedded cluster`);
  }
  await admin.query("create extension if not exists pg_stat_statements");
  const utility = await admin.query<{ on: string }>("select current_setting('pg_stat_statements.track_utility') as on");
  if (utility.rows[0]!.on !== "on") throw new Error(`${redactUrl(url)} has pg_stat_statements.track_utility off; BEGIN and COMMIT would not be counted`);
}

/**
 * Connects to the server named by `url` ({@link EMBEDDED}: starts one). With
 * `statements`, pg_stat_statements must be (or is) preloaded and is created in
 * the superuser URL's database.
 */
export async function startBenchPostgres(url: string, options: { statements?: boolean } = {}): Promise<BenchPostgres> {
  const server: Server = url === EMBEDDED ? await embeddedServer(options.statements ?? false) : { url, stop: async () => undefined };
  const admin = new pg.Client({ connectionString: server.url });
  // A role and password of the run's own: on a shared server, runs must not meet.
  const role = url === EMBEDDED ? "finger" : `finger_bench_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  const created: string[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (url !== EMBEDDED) {
      for (const name of created) await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.query(`drop role if exists ${role}`).catch(() => undefined);
    }
    await admin.end().catch(() => undefined);
    await server.stop();
  };
  onCleanup(stop);
  try {
    await admin.connect();
    await admin.query(`create role ${role} login password '${password}'`);
    if (options.statements) await checkStatements(admin, server.url);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    role,
    postmasterPid: server.postmasterPid,
    async createDatabase(name: string): Promise<string> {
      await admin.query(`create database ${name} owner ${role}`);
      created.push(name);
      const orchestratorUrl = new URL(server.url);
      orchestratorUrl.username = role;
      orchestratorUrl.password = password;
      orchestratorUrl.pathname = `/${name}`;
      return orchestratorUrl.toString();
    },
    query: (text, values) => admin.query(text, values),
    stop,
  };
}
