/**
 * An embedded PostgreSQL cluster for one run (the test server of `npm test`, a
 * benchmark's own): a temp folder, a free loopback port, everything removed by stop().
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../../src/db/embedded-postgres.js";
import { createLogger } from "../../src/log/logger.js";
import { freePort } from "../../src/net/free-port.js";

export interface ThrowawayPostgres {
  /** Superuser URL of the `postgres` database. */
  url: string;
  /** The cluster lives in `dataDir/postgres`. */
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts the cluster with extra `postgres` flags; `name` shows in the temp folder's name. */
export async function startThrowawayPostgres(name: string, extraFlags: string[] = []): Promise<ThrowawayPostgres> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `finger-${name}-pg-`));
  try {
    const embedded = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      database: "postgres",
      logger: createLogger({ level: "warn", format: "json" }),
      extraFlags,
    });
    return {
      url: embedded.url,
      dataDir,
      stop: async () => {
        await embedded.stop().catch(() => undefined);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
