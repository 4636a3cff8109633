/**
 * One run of a planned-events scenario: a PostgreSQL server and an orchestrator process of
 * its own (both restartable, from the chaos suite), the catalog, a coverage meter and worker
 * processes that dial the orchestrator directly or through a fault proxy (for a network blip).
 */
import { SimulatorAdmin, simStreamIds } from "../../src/simulator/admin-api.js";
import { CoverageMeter, type CoverageReport } from "../../src/simulator/coverage.js";
import { ChaosDatabase } from "../../test/chaos/chaos-database.js";
import { ChaosOrchestrator } from "../../test/chaos/chaos-orchestrator.js";
import { FaultProxy } from "../../test/helpers/fault-proxy.js";
import { pollUntil, sleep } from "../../test/helpers/wait.js";
import { LOAD_GENERATOR_LIMITS, onCleanup, type OrchestratorEnv } from "./process.js";
import { WorkerFleet } from "./worker-fleet.js";

export interface PlannedRunOptions {
  streams: number;
  strict: boolean;
  /** The orchestrator's settings on top of the bench's (timing, features on or off). */
  env: OrchestratorEnv;
  /** Workers dial a fault proxy in front of the orchestrator (needed for a network blip). */
  viaProxy?: boolean;
  warmUpMs: number;
}

export class PlannedRun {
  readonly meter: CoverageMeter;
  readonly fleet: WorkerFleet;
  readonly streamIds: string[];
  #closed = false;

  private constructor(
    readonly database: ChaosDatabase,
    readonly orchestrator: ChaosOrchestrator,
    readonly proxy: FaultProxy | undefined,
    readonly admin: SimulatorAdmin,
    options: PlannedRunOptions,
  ) {
    this.streamIds = simStreamIds(options.streams, "planned");
    this.meter = new CoverageMeter(this.streamIds, options.warmUpMs);
    this.fleet = new WorkerFleet({ address: proxy?.address ?? orchestrator.grpcAddress, meter: this.meter, strict: options.strict });
  }

  /** Database, orchestrator and catalog up; no worker yet. */
  static async open(options: PlannedRunOptions): Promise<PlannedRun> {
    const database = await ChaosDatabase.start();
    onCleanup(() => database.remove());
    const env = Object.fromEntries(Object.entries({ ...LOAD_GENERATOR_LIMITS, ...options.env }).map(([k, v]) => [k, String(v)]));
    const orchestrator = await ChaosOrchestrator.start(database.url, env);
    onCleanup(() => orchestrator.stop());
    const proxy = options.viaProxy ? await FaultProxy.start(orchestrator.grpcAddress) : undefined;
    if (proxy) onCleanup(() => proxy.close());
    const admin = new SimulatorAdmin(orchestrator.grpcAddress);
    const run = new PlannedRun(database, orchestrator, proxy, admin, options);
    await admin.upsertStreams(run.streamIds);
    return run;
  }

  /** Starts `count` workers evenly spread over `spreadMs` (ids w-<first>.. on). @returns when the first started. */
  async arrive(count: number, capacity: number, spreadMs: number, first = 0): Promise<number> {
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const due = started + (count > 1 ? (spreadMs * i) / (count - 1) : 0);
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      this.fleet.spawn(`w-${String(first + i).padStart(4, "0")}`, capacity);
    }
    return started;
  }

  /** Every stream runs exactly once and the live workers (all of one capacity) are within one stream of each other. */
  balanced(): boolean {
    const { unplaced, doubled } = this.meter.placement();
    if (unplaced || doubled) return false;
    const counts = [...this.meter.runningCounts().values()];
    return counts.length > 0 && Math.max(...counts) - Math.min(...counts) <= 1;
  }

  /**
   * Waits until the fleet is balanced and nothing started or stopped for `quietMs`.
   * @returns the moment of the last change (monotonic), or NaN after `timeoutMs`.
   */
  async settled(quietMs: number, timeoutMs: number): Promise<number> {
    const ok = await pollUntil(() => this.balanced() && performance.now() - this.meter.lastChangeAt >= quietMs, timeoutMs, 20);
    return ok ? this.meter.lastChangeAt : Number.NaN;
  }

  /** Waits until `count` workers have a welcomed session on the current orchestrator process. */
  async reconnected(count: number, since: number, timeoutMs: number): Promise<boolean> {
    return pollUntil(() => this.fleet.welcomesSince(since).length >= count, timeoutMs, 20);
  }

  report(at = performance.now()): CoverageReport {
    return this.meter.report(at);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.fleet.closeAll();
    this.admin.close();
    await this.proxy?.close();
    await this.orchestrator.stop();
    await this.database.remove();
  }
}
