/**
 * The orchestrator under test, as a child process started the way an operator
 * starts it, on fixed ports so that instances reconnect to the same address
 * after a restart. It notes every exit: one the run did not ask for, or an exit
 * code 0 after a failure, is a violation.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { seedEmbeddedCluster } from "../helpers/embedded-cluster-template.js";
import { freePort, spawnOrchestrator, waitForHttp200, type NodeChild } from "../helpers/process.js";
import { onEmergency } from "./emergency-stop.js";

export interface OrchestratorExit {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
}

export class ChaosOrchestrator {
  readonly exits: OrchestratorExit[] = [];
  /** When it last started serving (monotonic), and how long each restart took to serve again. */
  readonly restartsMs: number[] = [];
  private proc: NodeChild | undefined;
  private stopping = false;
  private readonly dataDir: string | undefined = undefined;
  // A run that dies leaves no orchestrator behind: SIGTERM, which also stops its embedded database.
  private readonly forget = onEmergency(() => this.proc?.child.kill("SIGTERM"));

  private constructor(
    private readonly env: Record<string, string>,
    readonly grpcPort: number,
    readonly httpPort: number,
    embeddedPort: number | undefined,
  ) {
    if (embeddedPort === undefined) return;
    this.dataDir = mkdtempSync(path.join(tmpdir(), "finger-chaos-data-"));
    this.env.DATA_DIR = this.dataDir;
    this.env.EMBEDDED_POSTGRES_PORT = String(embeddedPort);
  }

  /** On `databaseUrl`, or on its own embedded database when that is undefined. */
  static async start(databaseUrl: string | undefined, env: Record<string, string>): Promise<ChaosOrchestrator> {
    const own = { ...env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
    const orchestrator = new ChaosOrchestrator(own, await freePort(), await freePort(), databaseUrl ? undefined : await freePort());
    if (orchestrator.dataDir) await seedEmbeddedCluster(orchestrator.dataDir);
    await orchestrator.spawn();
    return orchestrator;
  }

  /** The external database it runs on, if any. */
  get databaseUrl(): string | undefined {
    return this.env.DATABASE_URL;
  }

  get grpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  get httpBase(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  private async spawn(): Promise<void> {
    this.stopping = false;
    const env: Record<string, string> = {
      ...this.env,
      GRPC_PORT: String(this.grpcPort),
      HTTP_PORT: String(this.httpPort),
      BIND_HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
    };
    const proc = spawnOrchestrator(env, { keepLines: 200 });
    this.proc = proc;
    void proc.exited.then(({ code, signal }) => this.exits.push({ at: performance.now(), code, signal, expected: this.stopping }));
    // Serving gRPC on its database: the run never restarts it while the database is down.
    await waitForHttp200(`${this.httpBase}/readyz`, 60_000, proc);
  }

  /** SIGKILL (as an OOM kill does), then a new process on the same ports and data. @returns ms until it served again. */
  async crashAndRestart(): Promise<number> {
    const started = performance.now();
    this.stopping = true;
    this.proc?.child.kill("SIGKILL");
    await this.proc?.exited;
    await this.spawn();
    const took = performance.now() - started;
    this.restartsMs.push(took);
    return took;
  }

  /** SIGTERM (as a deploy or `docker stop` does), then a new process on the same ports and data. @returns ms until it served again. */
  async restart(): Promise<number> {
    const started = performance.now();
    this.stopping = true;
    await this.proc?.stop(15_000);
    await this.spawn();
    const took = performance.now() - started;
    this.restartsMs.push(took);
    return took;
  }

  /** Its last lines of output, for a failure report. */
  output(): string {
    return this.proc?.output() ?? "";
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.proc?.stop(15_000);
    this.forget();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
