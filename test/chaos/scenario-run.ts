/**
 * One chaos scenario from start to end: a database (unless the orchestrator
 * brings its own), the orchestrator process, a catalog, the fleet; faults for
 * a while; then everything healed, the fleet given time to settle, and the
 * verdict: what was injected, what it caused, and every violation.
 */
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { pollUntil } from "../helpers/wait.js";
import { ChaosDatabase } from "./chaos-database.js";
import { ChaosFleet } from "./chaos-fleet.js";
import { ChaosOrchestrator } from "./chaos-orchestrator.js";
import { ChaosReplicas } from "./chaos-replicas.js";
import { DatabaseAudit } from "./database-audit.js";
import { FaultInjector, seededRandom } from "./fault-injector.js";
import { Invariants } from "./invariants.js";
import { OrchestratorWatch } from "./orchestrator-watch.js";
import { ReplicaFaults } from "./replica-faults.js";
import type { FaultKind, Scenario } from "./scenarios.js";
import { Timeline, type TimelineEntry } from "./timeline.js";

export interface FleetSize {
  strict: number;
  raw: number;
  capacity: number;
  streams: number;
}

export const FLEET: FleetSize = { strict: 30, raw: 4, capacity: 10, streams: 120 };
/** The short run's (npm test): the same shape, smaller, as its few seconds of faults reach only a few instances. */
export const SHORT_FLEET: FleetSize = { strict: 12, raw: 2, capacity: 10, streams: 48 };

export interface ScenarioResult {
  scenario: string;
  seed: number;
  faultMs: number;
  injected: Partial<Record<FaultKind, number>>;
  /** Instances declared dead or expired by the orchestrator (its events). */
  failovers: number;
  /** Grants the orchestrator reported (stream.assigned) while faults ran and after. */
  moves: number;
  /** Every event kind the orchestrator reported, counted. */
  events: Record<string, number>;
  /** The longest any stream waited for an owner, outages of the control plane not counted. */
  worstReactionMs: number;
  overlaps: number;
  /** From each orchestrator crash (or leader fault) until it (or another replica) served again. */
  orchestratorRestartsMs: number[];
  /** With replicas: the leadership terms that wrote events. */
  terms?: number;
  adminCalls: { total: number; failed: number; slowestMs: number };
  /** Wall time of each phase: start-up to a balanced fleet, faults and their heals, settling. */
  phasesMs: { setup: number; faults: number; settle: number };
  violations: TimelineEntry[];
  timeline: TimelineEntry[];
  /** Every start and stop on a strict instance, as it lived it (ms since the run started). */
  runLog: Array<{ at: number; instance: string; stream: string; what: "start" | "stop" }>;
}

export interface RunOptions {
  faultMs: number;
  fleet: FleetSize;
  seed: number;
  /** Called every so often with the orchestrator's pid and database URL (the soak samples memory; one process only). */
  onTick?: (orchestrator: ChaosOrchestrator) => void;
}

export async function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  const timeline = new Timeline();
  const leaseMs = Number(scenario.env.LEASE_TTL_MS);
  const database = scenario.database === "external" ? await ChaosDatabase.start() : undefined;
  const cleanups: Array<() => Promise<void> | void> = [() => database?.remove()];
  let replicas: ChaosReplicas | undefined;
  try {
    if (scenario.replicas && !database) throw new Error(`${scenario.name}: replicas need the external database`);
    replicas = scenario.replicas ? await ChaosReplicas.start(database!.url, scenario.replicas, scenario.env, timeline) : undefined;
    const orchestrator = replicas ? undefined : await ChaosOrchestrator.start(database?.url, scenario.env);
    cleanups.unshift(() => (replicas ?? orchestrator)?.stop());
    const audit = replicas ? new DatabaseAudit(database!.url) : undefined;
    cleanups.unshift(() => audit?.close());
    // Admin calls and the fleet's first choice: the orchestrator, or the replica leading now.
    const address = () => replicas?.leader.grpcAddress ?? orchestrator!.grpcAddress;
    const streams = streamIds(options.fleet.streams);
    const admin = new AdminClient(address());
    await admin.upsert(streams.map((id) => ({ id })));
    admin.close();
    const fleet = await ChaosFleet.start(replicas?.addresses ?? [orchestrator!.grpcAddress], { ...options.fleet, heartbeatMs: Number(scenario.env.HEARTBEAT_INTERVAL_MS) });
    cleanups.unshift(() => fleet.close());
    if (!(await pollUntil(() => fleet.placed() === streams.length, 30_000, 100))) throw new Error(`the fleet did not place ${streams.length} streams at start`);

    const paused = (from: number, to: number) => injector.outages.some((o) => o.kind === "leader-pause" && o.from < to && (o.to ?? to) > from);
    const watch = new OrchestratorWatch(address, Number(scenario.env.ADMIN_CALL_TIMEOUT_MS ?? 10_000), timeline, streams[0]!, paused);
    cleanups.unshift(() => watch.close());
    watch.start();
    const watchedFrom = new Date();
    const replicaFaults = replicas
      ? new ReplicaFaults({ replicas, fleet, timeline, audit: audit!, checks: () => checks }, leaseMs, Number(scenario.env.LEADER_LEASE_MS), seededRandom(options.seed + 1_000))
      : undefined;
    const injector = new FaultInjector(
      scenario,
      {
        fleet,
        orchestrator,
        replicaFaults,
        database,
        timeline,
        quiesce: async () => {
          fleet.healAll();
          await checks.balanced(leaseMs + 20_000);
        },
        restarted: (killedAt, servingAt, before): Promise<void> => checks.orchestratorRestarted(killedAt, servingAt, before),
      },
      options.seed,
    );
    // The sampler discounts the outages the injector records, as they happen.
    const checks: Invariants = new Invariants(streams, fleet, injector.outages, timeline, leaseMs);
    if (!(await checks.balanced(leaseMs + 20_000))) throw new Error("the fleet did not balance at start");
    checks.start();
    const ticker = options.onTick && orchestrator ? setInterval(() => options.onTick!(orchestrator), 1_000) : undefined;
    const faultsAt = performance.now();
    timeline.note("faults start", { forMs: options.faultMs });
    await injector.run(options.faultMs);
    timeline.note("faults stop");
    const settleAt = performance.now();
    fleet.healAll();
    await checks.settle();
    await checks.balanced(leaseMs + 20_000);
    const phasesMs = { setup: Math.round(faultsAt - timeline.startedAt), faults: Math.round(settleAt - faultsAt), settle: Math.round(performance.now() - settleAt) };
    checks.stop();
    clearInterval(ticker);
    // With replicas the events come from the database: a watch reopened on a new leader misses what it wrote meanwhile.
    const events = audit ? await audit.eventsSince(watchedFrom) : Object.fromEntries(watch.events);
    const terms = audit ? await audit.checkFence(timeline) : undefined;

    if (replicas && timeline.violations.length) timeline.note("replica output", { output: replicas.output().slice(-60_000) });
    for (const overlap of fleet.runs.violations) timeline.violation("stream ran on two strict instances", { what: overlap });
    // (Replicas report an exit of their own as it happens, as they are started again.)
    for (const exit of orchestrator?.exits ?? []) {
      if (!exit.expected) timeline.violation("orchestrator exited on its own", { code: exit.code, signal: exit.signal, output: orchestrator!.output().slice(-2_000) });
    }
    return {
      scenario: scenario.name,
      seed: options.seed,
      faultMs: options.faultMs,
      injected: Object.fromEntries(injector.injected),
      failovers: (events["instance.dead"] ?? 0) + (events["instance.expired"] ?? 0),
      moves: events["stream.assigned"] ?? 0,
      events,
      terms,
      worstReactionMs: Math.round(checks.worstUnplacedMs),
      overlaps: fleet.runs.violations.length,
      orchestratorRestartsMs: (replicas ?? orchestrator!).restartsMs.map(Math.round),
      adminCalls: { total: watch.calls.total, failed: watch.calls.failed, slowestMs: Math.round(watch.calls.slowest) },
      phasesMs,
      violations: timeline.violations,
      timeline: timeline.entries,
      runLog: fleet.runs.log.map((e) => ({ ...e, at: timeline.since(e.at) })),
    };
  } catch (error) {
    // A run that could not finish still tells what happened up to there.
    if (replicas) timeline.note("replica output", { output: replicas.output().slice(-60_000) });
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), { timeline: timeline.entries });
  } finally {
    for (const cleanup of cleanups) await Promise.resolve(cleanup()).catch(() => undefined);
  }
}
