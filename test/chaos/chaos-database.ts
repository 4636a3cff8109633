/**
 * The PostgreSQL server a chaos run's orchestrator uses (DATABASE_URL): a real
 * cluster in a temp folder on a fixed port, which the run stops, restarts and
 * freezes (SIGSTOP on the postmaster and every backend, as a stuck disk or a
 * partition looks to its clients).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded-postgres.js";
import { createLogger } from "../../src/log/logger.js";
import { freePort } from "../../src/net/free-port.js";
import { signalCluster } from "../helpers/postgres-cluster.js";
import { seedEmbeddedCluster } from "../helpers/embedded-cluster-template.js";
import { onEmergency } from "./emergency-stop.js";

export type DatabaseState = "up" | "stopped" | "frozen";

export class ChaosDatabase {
  state: DatabaseState = "stopped";
  private server: EmbeddedDatabase | undefined;
  private readonly logger = createLogger({ level: "silent", format: "json" });
  // A run that dies leaves no server behind: thawed (it may be frozen), then a fast shutdown (SIGINT to the postmaster).
  private readonly forget = onEmergency(() => {
    const cluster = path.join(this.dataDir, "postgres");
    signalCluster(cluster, "SIGCONT");
    signalCluster(cluster, "SIGINT");
  });

  private constructor(
    private readonly dataDir: string,
    private readonly port: number,
  ) {}

  static async start(): Promise<ChaosDatabase> {
    const database = new ChaosDatabase(mkdtempSync(path.join(tmpdir(), "finger-chaos-pg-")), await freePort());
    await seedEmbeddedCluster(database.dataDir); // no initdb: what matters here is what happens after start-up
    await database.up();
    return database;
  }

  /** The orchestrator's database on this server (created by the first up()). */
  get url(): string {
    return `postgres://postgres:finger-embedded@127.0.0.1:${this.port}/orchestrator`;
  }

  async up(): Promise<void> {
    this.server = await startEmbeddedPostgres({ dataDir: this.dataDir, port: this.port, logger: this.logger });
    this.state = "up";
  }

  /** A clean stop (as `pg_ctl stop -m fast` does): connections are closed, new ones refused. */
  async stop(): Promise<void> {
    if (this.state === "frozen") this.thaw();
    await this.server?.stop();
    this.server = undefined;
    this.state = "stopped";
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.up();
  }

  freeze(): void {
    signalCluster(path.join(this.dataDir, "postgres"), "SIGSTOP");
    this.state = "frozen";
  }

  thaw(): void {
    signalCluster(path.join(this.dataDir, "postgres"), "SIGCONT");
    this.state = "up";
  }

  async remove(): Promise<void> {
    if (this.state !== "stopped") await this.stop().catch(() => undefined);
    this.forget();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
