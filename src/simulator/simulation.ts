import type { ConnectionSecurity, ConnectTransport } from "../client/index.js";
import type { GetStatusResponse } from "../gen/orchestrator/v1/admin.js";
import { SimulatorAdmin, simStreamIds } from "./admin-api.js";
import { formatChurnEvent, type ChurnEvent } from "./churn-spec.js";
import { ChurnRunner } from "./churn-runner.js";
import { IDENTIFICATION_WINDOW_MS } from "../domain/limits.js";
import { CoverageMeter, type CoverageReport } from "./coverage.js";
import { FailoverTracker } from "./failover-tracker.js";
import { OwnershipLedger, type InstanceState } from "./ledger.js";
import { SeededRandom } from "./random.js";
import { failoverStats, type FailoverStats, type SimulationReport } from "./report.js";
import { balance, type Balance } from "./stats.js";
import { VirtualFleet } from "./virtual-fleet.js";

/** What to simulate. */
export interface SimulationOptions {
  /** Orchestrator gRPC address, `host:port`. */
  address: string;
  /** How the orchestrator is described in the report. */
  orchestrator: string;
  /** The virtual instances' token (an instance token not bound to an id) and TLS settings. */
  instanceSecurity?: ConnectionSecurity;
  /** The admin calls' token (they create and delete the streams) and TLS settings. */
  adminSecurity?: ConnectionSecurity;
  instances: number;
  streams: number;
  /** Capacities handed out in turn to the instances (joins continue the rotation). */
  capacities: readonly number[];
  churn: readonly ChurnEvent[];
  /** Scenario length, counted from the end of setup. */
  durationMs: number;
  seed: number;
  /** Warm-up counted after each start in the coverage figures (the identification window). Default 15 s. */
  warmUpMs?: number;
  /** How long setup may take to connect everyone and place every stream. Default 60 s. */
  setupTimeoutMs?: number;
  /** Delete the simulated streams at the end (for an orchestrator that outlives the run). */
  deleteStreams?: boolean;
  /** How often snapshots are taken and GetStatus is asked. Default 1000 ms. */
  sampleIntervalMs?: number;
  /** Replaces each instance's gRPC connection (tests). */
  transport?: (instanceId: string) => ConnectTransport;
}

/** Progress of a run, taken every sample interval for the live view. */
export interface Snapshot {
  phase: "setup" | "running" | "closing";
  /** What setup is waiting for. */
  step: string;
  /** Scenario time (0 during setup). */
  elapsedMs: number;
  durationMs: number;
  states: Record<InstanceState, number>;
  streams: number;
  /** Streams running on at least one `up` instance. */
  served: number;
  status?: GetStatusResponse | undefined;
  statusError?: string | undefined;
  moves: number;
  violations: number;
  failovers: FailoverStats & { pending: number };
  balance?: Balance | undefined;
}

/** Called by a running simulation. */
export interface SimulationHooks {
  onSnapshot?: (snapshot: Snapshot) => void;
  /** One line for each thing that happened (faults, setup steps, warnings). */
  onNote?: (text: string) => void;
}

/**
 * One simulation: connects the virtual fleet, creates the streams, waits for every stream to
 * be placed, then runs the churn schedule for the scenario's duration while measuring from
 * the instances' side, and finally closes every instance (with leave). The orchestrator is
 * someone else's to start and stop.
 */
export class Simulation {
  readonly #o: SimulationOptions;
  readonly #hooks: SimulationHooks;
  readonly #ledger = new OwnershipLedger();
  readonly #admin: SimulatorAdmin;
  readonly #fleet: VirtualFleet;
  readonly #notes: string[] = [];
  #tracker: FailoverTracker | undefined;
  #phase: Snapshot["phase"] = "setup";
  #step = "reaching the orchestrator";
  #origin: number | undefined;
  #movesAtStart = 0;
  #status: GetStatusResponse | undefined;
  #statusError: string | undefined;
  #poll: Promise<void> | undefined;
  /** First scenario time and lowest capacity at which the up instances could not hold every stream. */
  #short: { atMs: number; minCapacity: number } | undefined;
  #stopRequested = false;
  readonly #sleepers = new Set<() => void>();

  constructor(options: SimulationOptions, hooks: SimulationHooks = {}) {
    this.#o = options;
    this.#hooks = hooks;
    this.#admin = new SimulatorAdmin(options.address, options.adminSecurity);
    const total = options.instances + options.churn.filter((e) => e.action === "join").reduce((n, e) => n + e.count, 0);
    this.#fleet = new VirtualFleet({
      address: options.address,
      ledger: this.#ledger,
      security: options.instanceSecurity,
      capacities: options.capacities,
      idWidth: Math.max(3, String(total).length),
      transport: options.transport,
      onNote: (text) => this.#note(text),
    });
  }

  /** Ends the run early (Ctrl-C): the scenario stops, instances close, the report follows. */
  stop(): void {
    this.#stopRequested = true;
    for (const wake of [...this.#sleepers]) wake();
  }

  /** Runs everything; resolves with the report once every instance is closed. */
  async run(): Promise<SimulationReport> {
    const interval = this.#o.sampleIntervalMs ?? 1_000;
    const sampler = setInterval(() => this.#sample(), interval);
    try {
      await this.#admin.status(5_000);
      if (!this.#stopRequested) await this.#setup();
      const origin = (this.#origin = performance.now());
      this.#movesAtStart = this.#ledger.moves;
      const meter = new CoverageMeter(simStreamIds(this.#o.streams), this.#o.warmUpMs ?? IDENTIFICATION_WINDOW_MS);
      // What setup placed counts as running (and warm) from before the scenario's window.
      this.#ledger.attach(meter, origin - 1);
      meter.begin(origin);
      const tracker = (this.#tracker = new FailoverTracker(this.#ledger, origin));
      this.#fleet.onUp = (instance) => tracker.joinedUp(instance.id);
      const churn = new ChurnRunner(this.#o.churn, { fleet: this.#fleet, tracker, random: new SeededRandom(this.#o.seed), onNote: (t) => this.#note(t) });
      this.#phase = "running";
      if (!this.#stopRequested) {
        churn.start(origin);
        this.#sample();
        await this.#sleep(this.#o.durationMs);
      }
      churn.cancel();
      const elapsedMs = performance.now() - origin;
      if (this.#short) {
        this.#notes.push(
          `from ${(this.#short.atMs / 1000).toFixed(1)} s the up instances' capacity (down to ${this.#short.minCapacity}) was below the ${this.#o.streams} streams, so some failovers waited for capacity rather than for the orchestrator`,
        );
      }
      await this.#pollStatus(true);
      const report = this.#report(elapsedMs, meter.report(origin + elapsedMs));
      this.#phase = "closing";
      this.#sample();
      await this.#fleet.shutdown();
      if (this.#o.deleteStreams) await this.#admin.deleteStreams(simStreamIds(this.#o.streams)).catch((e: Error) => this.#note(`deleting the streams failed: ${e.message}`));
      report.violations = this.#ledger.violations.map((v) => ({ ...v, at: v.at - origin }));
      return report;
    } finally {
      clearInterval(sampler);
      await this.#fleet.shutdown();
      this.#admin.close();
    }
  }

  async #setup(): Promise<void> {
    const o = this.#o;
    const timeout = o.setupTimeoutMs ?? 60_000;
    this.#step = `connecting ${o.instances} instances`;
    this.#note(this.#step);
    this.#fleet.add(o.instances);
    // A refused session ends setup at once: the others carry the same token and would be refused alike.
    const allUp = await this.#waitFor(() => this.#ledger.countByState().up >= o.instances || this.#fleet.refusal !== undefined, timeout);
    if (this.#fleet.refusal) throw this.#fleet.refusal;
    if (this.#stopRequested) return;
    if (!allUp) this.#warn(`setup: only ${this.#ledger.countByState().up} of ${o.instances} instances were up after ${timeout / 1000} s`);
    this.#step = `creating ${o.streams} streams`;
    const outcome = await this.#admin.upsertStreams(simStreamIds(o.streams));
    this.#note(`created ${outcome.created} streams (${outcome.updated} updated, ${outcome.unchanged} unchanged)`);
    const placeable = () => Math.min(o.streams, this.#fleet.upCapacity());
    this.#step = "waiting for every stream to run";
    const allRunning = await this.#waitFor(() => this.#ledger.servedCount() >= placeable(), timeout);
    if (this.#stopRequested) return;
    if (!allRunning) {
      this.#warn(`setup: only ${this.#ledger.servedCount()} of ${placeable()} placeable streams were running after ${timeout / 1000} s`);
    }
    if (o.streams > this.#fleet.upCapacity()) {
      this.#warn(`streams (${o.streams}) exceed the capacity of the up instances (${this.#fleet.upCapacity()}); the rest wait unassigned`);
    }
    this.#note(`setup done: ${this.#ledger.countByState().up} instances up, ${this.#ledger.servedCount()} streams running; scenario starts`);
  }

  #report(elapsedMs: number, coverage: CoverageReport): SimulationReport {
    const o = this.#o;
    const status = this.#status;
    return {
      scenario: o.churn.length ? o.churn.map(formatChurnEvent).join(",") : "none",
      seed: o.seed,
      orchestrator: o.orchestrator,
      plannedMs: o.durationMs,
      elapsedMs,
      interrupted: this.#stopRequested,
      instances: {
        initial: o.instances,
        joined: this.#fleet.instances.length - o.instances,
        upAtEnd: this.#ledger.countByState().up,
        capacities: [...new Set(o.capacities)].join("/"),
      },
      streams: o.streams,
      // Copies: shutdown heals partitions, which would otherwise "recover" them after the fact.
      faults: (this.#tracker?.records ?? []).map((r) => ({ ...r })),
      violations: [],
      moves: this.#ledger.moves - this.#movesAtStart,
      coverage,
      final: {
        balance: balance(this.#ledger.upLoads()),
        unservedLedger: o.streams - this.#ledger.servedCount(),
        unassignedStatus: status ? (status.streams?.unassigned ?? 0) : undefined,
        statusError: this.#statusError,
      },
      notes: [...this.#notes],
    };
  }

  #sample(): void {
    void this.#pollStatus();
    this.#watchCapacity();
    const tracker = this.#tracker;
    this.#hooks.onSnapshot?.({
      phase: this.#phase,
      step: this.#step,
      elapsedMs: this.#origin === undefined ? 0 : performance.now() - this.#origin,
      durationMs: this.#o.durationMs,
      states: this.#ledger.countByState(),
      streams: this.#o.streams,
      served: this.#ledger.servedCount(),
      status: this.#status,
      statusError: this.#statusError,
      moves: this.#ledger.moves - this.#movesAtStart,
      violations: this.#ledger.violations.length,
      failovers: { ...failoverStats(tracker?.records ?? []), pending: tracker?.pending ?? 0 },
      balance: balance(this.#ledger.upLoads()),
    });
  }

  /** Failovers cannot finish while the survivors lack room; the report says when that was the case. */
  #watchCapacity(): void {
    if (this.#phase !== "running" || this.#origin === undefined) return;
    const capacity = this.#fleet.upCapacity();
    if (capacity >= this.#o.streams) return;
    if (this.#short) this.#short.minCapacity = Math.min(this.#short.minCapacity, capacity);
    else this.#short = { atMs: performance.now() - this.#origin, minCapacity: capacity };
  }

  /** Refreshes the GetStatus figures, one call at a time, failures kept as text; `fresh` asks anew after one in flight. */
  async #pollStatus(fresh = false): Promise<void> {
    if (this.#poll) {
      await this.#poll;
      if (!fresh) return;
    }
    this.#poll = this.#admin.status(2_000).then(
      (status) => {
        this.#status = status;
        this.#statusError = undefined;
      },
      (error: Error) => {
        this.#statusError = error.message;
      },
    );
    try {
      await this.#poll;
    } finally {
      this.#poll = undefined;
    }
  }

  #note(text: string): void {
    const at = this.#origin === undefined ? "setup" : `${((performance.now() - this.#origin) / 1000).toFixed(1)}s`;
    this.#hooks.onNote?.(`[${at}] ${text}`);
  }

  #warn(text: string): void {
    this.#notes.push(text);
    this.#note(`warning: ${text}`);
  }

  /** Polls `condition` every 50 ms; false on timeout or when stopped. */
  async #waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      if (this.#stopRequested || performance.now() >= deadline) return false;
      await this.#sleep(50);
    }
    return true;
  }

  /** Sleeps `ms`, or less when stopped. */
  #sleep(ms: number): Promise<void> {
    if (this.#stopRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }
}
