import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { OrchestratorApp } from "../app.js";
import { loadConfig } from "../config/config.js";
import { formatDuration } from "./churn-spec.js";
import { freePort } from "../net/free-port.js";

/** Timings the in-process orchestrator runs with; short, so faults resolve in seconds. */
export interface FastTimings {
  heartbeatMs: number;
  leaseMs: number;
  graceMs: number;
}

/** Heartbeat 1 s, lease 3 s, grace 1 s: a kill fails over in about a second, a partition in about three. */
export const FAST_TIMINGS: FastTimings = { heartbeatMs: 1_000, leaseMs: 3_000, graceMs: 1_000 };

/** An orchestrator running inside this process on a throw-away embedded PostgreSQL. */
export interface InProcessOrchestrator {
  address: string;
  /** For the report: where it runs and how it is tuned. */
  description: string;
  /** Stops the orchestrator and PostgreSQL, then deletes the data folder. */
  stop(): Promise<void>;
}

/** Settles with `promise`, or after `ms` whatever happens. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Starts an orchestrator on an embedded PostgreSQL in a fresh temp folder, listening on
 * free loopback ports. Its logs go to stderr at `logLevel` (default silent), never to stdout,
 * which belongs to the live view.
 */
export async function startInProcessOrchestrator(
  timings: FastTimings = FAST_TIMINGS,
  logLevel = "silent",
): Promise<InProcessOrchestrator> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "finger-simulate-"));
  let muted = false;
  let app: OrchestratorApp;
  try {
    // Only what is given here counts: a DATABASE_URL in the caller's shell must not be used.
    const config = loadConfig(
      {
        DATA_DIR: dataDir,
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        GRPC_PORT: "0",
        HTTP_PORT: "0",
        BIND_HOST: "127.0.0.1",
        HEARTBEAT_INTERVAL_MS: String(timings.heartbeatMs),
        LEASE_TTL_MS: String(timings.leaseMs),
        RECONNECT_GRACE_MS: String(timings.graceMs),
        LOG_LEVEL: logLevel,
        LOG_FORMAT: "json",
      },
      false,
    );
    const logger = pino({ level: logLevel }, { write: (line: string) => void (muted || process.stderr.write(line)) });
    app = new OrchestratorApp(config, logger);
    await app.start();
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${app.ports.grpc}`,
    description: `in this process, on embedded PostgreSQL (heartbeat ${formatDuration(timings.heartbeatMs)}, lease ${formatDuration(timings.leaseMs)}, grace ${formatDuration(timings.graceMs)})`,
    stop: () =>
      (stopping ??= (async () => {
        // A signal to the whole process group reaches PostgreSQL too, and stopping a server
        // that already exited never finishes; give up waiting after a while.
        await within(app.stop(), 10_000);
        muted = true;
        await rm(dataDir, { recursive: true, force: true });
      })()),
  };
}
