/**
 * Worker processes for the planned-events benchmark: each one a real InstanceClient (strict
 * or not) whose start and stop handlers report to a coverage meter, with the life cycle of a
 * deployed worker: it starts, is restarted (stopped by a signal, with or without intent to
 * return, and started again with nothing running), crashes (no leave, streams gone), or is
 * shut down for good. A restarted worker is a new process: a new client with the same id.
 */
import { InstanceClient } from "../../src/client/index.js";
import type { CoverageMeter } from "../../src/simulator/coverage.js";
import { FaultTransport } from "../../src/simulator/fault-transport.js";
import { pollUntil } from "../../test/helpers/wait.js";

export interface WorkerFleetOptions {
  /** Where the workers dial (the orchestrator, or a proxy in front of it). */
  address: string;
  meter: CoverageMeter;
  strict: boolean;
}

/** One incarnation of a worker: reports to the meter only while it is alive. */
class WorkerProcess {
  alive = true;
  lastWelcomeAt = Number.NaN;
  readonly client: InstanceClient;
  readonly transport: FaultTransport;

  constructor(
    readonly id: string,
    readonly capacity: number,
    options: WorkerFleetOptions,
  ) {
    const meter = options.meter;
    this.transport = new FaultTransport(options.address);
    this.client = new InstanceClient({
      address: options.address,
      instanceId: id,
      capacity,
      version: "bench",
      strict: options.strict,
      transport: this.transport,
      onStart: (stream) => {
        if (this.alive) meter.started(id, stream.id, performance.now());
      },
      onStop: (streamId) => {
        if (this.alive) meter.stopped(id, streamId, performance.now());
      },
    });
    this.client.on("welcome", () => {
      this.lastWelcomeAt = performance.now();
    });
    this.client.on("error", () => undefined);
    meter.up(id, capacity, performance.now());
    this.client.start();
  }
}

export class WorkerFleet {
  readonly #options: WorkerFleetOptions;
  readonly #workers = new Map<string, WorkerProcess>();
  /** Per restart: how long the worker was away (stopped until its new process was welcomed) and what it ran. */
  readonly gaps: Array<{ id: string; ms: number; streams: number }> = [];

  constructor(options: WorkerFleetOptions) {
    this.#options = options;
  }

  get ids(): string[] {
    return [...this.#workers.keys()];
  }

  /** Starts a worker process (a new one, or the same id again after it stopped). */
  spawn(id: string, capacity: number): void {
    if (this.#workers.get(id)?.alive) throw new Error(`worker ${id} is already running`);
    this.#workers.set(id, new WorkerProcess(id, capacity, this.#options));
  }

  /** When each live worker was last welcomed, for those welcomed at or after `since`. */
  welcomesSince(since: number): number[] {
    return [...this.#workers.values()].filter((w) => w.alive && w.lastWelcomeAt >= since).map((w) => w.lastWelcomeAt);
  }

  /**
   * A restart as a deploy does it: the process is stopped by a signal (leave, with intent to
   * return within `returnWithinMs` when given), stays away `gapMs`, and a new process with the
   * same id starts with nothing running. Resolves when the new process is welcomed.
   */
  async restart(id: string, gapMs: number, returnWithinMs?: number): Promise<void> {
    const old = this.#get(id);
    const streams = old.client.running().size;
    const stoppedAt = performance.now();
    this.#options.meter.down(id, stoppedAt);
    old.alive = false;
    await old.client.close("restart", returnWithinMs ? { returnWithinMs } : {});
    const wait = gapMs - (performance.now() - stoppedAt);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.spawn(id, old.capacity);
    const fresh = this.#get(id);
    if (!(await pollUntil(() => !Number.isNaN(fresh.lastWelcomeAt), 30_000, 5))) throw new Error(`worker ${id} not welcomed within 30 s of its restart`);
    this.gaps.push({ id, ms: fresh.lastWelcomeAt - stoppedAt, streams });
  }

  /** SIGKILL: no leave, the connection dies, its streams stop with it. */
  crash(id: string): number {
    const w = this.#get(id);
    const streams = w.client.running().size;
    this.#options.meter.down(id, performance.now());
    w.alive = false;
    w.transport.crash();
    // Only to end its reconnect loop: the leave is lost with the crashed connection.
    void w.client.close("killed");
    return streams;
  }

  /** The end of a run: every worker leaves for good. */
  async closeAll(): Promise<void> {
    await Promise.all(
      [...this.#workers.values()].map(async (w) => {
        if (!w.alive) return;
        this.#options.meter.down(w.id, performance.now());
        w.alive = false;
        await w.client.close("shutdown");
      }),
    );
  }

  #get(id: string): WorkerProcess {
    const w = this.#workers.get(id);
    if (!w?.alive) throw new Error(`worker ${id} is not running`);
    return w;
  }
}
