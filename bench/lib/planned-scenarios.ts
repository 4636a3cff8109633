/**
 * The planned events of bench/planned.ts, each run once with this build's defaults ("new")
 * and once with its planned-event features turned off ("reference": no settle window, no
 * restart lease, no leaving to return, workers that restart with a plain leave). Scenarios
 * that begin with a cold start also run as "known-fleet": the defaults plus the fleet's size
 * (PLACEMENT_EXPECTED_INSTANCES), as an operator who knows how many workers they deploy sets it.
 */
import type { CoverageReport } from "../../src/simulator/coverage.js";
import { sleep } from "../../test/helpers/wait.js";
import { PlannedRun } from "./planned-run.js";
import type { OrchestratorEnv } from "./process.js";

export interface Variant {
  name: "new" | "known-fleet" | "reference";
  env: OrchestratorEnv;
  /** Tells the orchestrator how many workers a cold start brings (scenarios that have one). */
  knowsFleet?: boolean;
  /** What a restarting worker promises in its leave; none for a plain leave. */
  returnWithinMs?: number;
}

export const VARIANTS: readonly Variant[] = [
  { name: "new", env: {}, returnWithinMs: 30_000 },
  { name: "known-fleet", env: {}, returnWithinMs: 30_000, knowsFleet: true },
  { name: "reference", env: { PLACEMENT_SETTLE_MS: 0, RESTART_LEASE_MS: 0, MAX_RETURN_WITHIN_MS: 0 } },
];

export interface Common {
  capacity: number;
  warmUpMs: number;
  /** HEARTBEAT_INTERVAL_MS and LEASE_TTL_MS of every run. */
  timing: OrchestratorEnv;
  log: (line: string) => void;
}

export interface ScenarioResult {
  scenario: string;
  variant: Variant["name"];
  /** From the event until balanced and quiet (the last start or stop), ms. */
  settledMs: number;
  report: CoverageReport;
  /** Rolling restarts: the sum over workers of (time away x streams it ran), ms. */
  gapStreamMs?: number;
  /** The compressed day, phase by phase. */
  phases?: Array<{ name: string; report: CoverageReport }>;
}

/** A stretch of a scenario summed up on its own (monotonic ms). */
export interface Phase {
  name: string;
  from: number;
  to: number;
}

type Body = (run: PlannedRun) => Promise<{ settledMs: number; gapStreamMs?: number; phases?: Phase[] }>;

export async function runScenario(
  scenario: string,
  variant: Variant,
  c: Common,
  setup: { streams: number; strict: boolean; viaProxy?: boolean; coldStartOf?: number },
  body: Body,
): Promise<ScenarioResult> {
  const { coldStartOf, ...openSetup } = setup;
  if (variant.knowsFleet && coldStartOf === undefined) throw new Error(`${scenario}: the known-fleet variant needs a scenario that begins with a cold start`);
  const expected: OrchestratorEnv = variant.knowsFleet ? { PLACEMENT_EXPECTED_INSTANCES: coldStartOf! } : {};
  const run = await PlannedRun.open({ ...openSetup, env: { ...c.timing, ...variant.env, ...expected }, warmUpMs: c.warmUpMs });
  try {
    const outcome = await body(run);
    // The window closes once the last start has warmed up, so every warm-up is counted whole.
    if (!Number.isNaN(outcome.settledMs)) await sleep(run.meter.lastChangeAt + c.warmUpMs - performance.now());
    const { phases, ...rest } = outcome;
    const result: ScenarioResult = { scenario, variant: variant.name, ...rest, report: run.report() };
    if (phases) result.phases = phases.map((p) => ({ name: p.name, report: run.meter.report(p.to, p.from) }));
    const settled = phases ? "over" : Number.isNaN(outcome.settledMs) ? "not balanced and quiet in time" : `settled after ${Math.round(outcome.settledMs)} ms`;
    c.log(`${scenario} (${variant.name}): ${settled}, ${result.report.starts} starts, ${result.report.moves} moves`);
    return result;
  } finally {
    await run.close();
  }
}

/**
 * The fleet before the event: `instances` workers over 3 s, balanced and quiet; then the
 * measurement window opens. @returns when it opened.
 */
async function balancedFleet(run: PlannedRun, instances: number, c: Common): Promise<number> {
  await run.arrive(instances, c.capacity, 3_000);
  if (Number.isNaN(await run.settled(1_000, 120_000))) throw new Error(`fleet of ${instances} not balanced within 120 s`);
  const t0 = performance.now();
  run.meter.begin(t0);
  return t0;
}

/**
 * After an event that broke every session: every worker welcomed again, then quiet for a lease
 * past that (a strict worker that lost its lease has stopped by then). @returns ms from t0.
 */
async function reconnectedAndQuiet(run: PlannedRun, instances: number, t0: number, c: Common, what: string): Promise<number> {
  if (!(await run.reconnected(instances, t0, 30_000))) throw new Error(`workers did not reconnect within 30 s ${what}`);
  const after = run.fleet.welcomesSince(t0).map((t) => t - t0).sort((a, b) => a - b);
  c.log(`  workers welcomed again ${what}: first ${Math.round(after[0] ?? Number.NaN)} ms, median ${Math.round(after[after.length >> 1] ?? Number.NaN)} ms, last ${Math.round(after[after.length - 1] ?? Number.NaN)} ms`);
  return settledSince(t0, await run.settled(Number(c.timing.LEASE_TTL_MS), 30_000));
}

/** ms from t0 to `at`; NaN (reported as "not balanced in time") when the wait timed out. */
function settledSince(t0: number, at: number): number {
  return Number.isNaN(at) ? Number.NaN : Math.max(0, at - t0);
}

export function coldStart(o: { instances: number; streams: number; spreadMs: number; timeoutMs: number }, v: Variant, c: Common): Promise<ScenarioResult> {
  return runScenario(`cold start ${o.instances}x${o.streams}`, v, c, { streams: o.streams, strict: false, coldStartOf: o.instances }, async (run) => {
    const t0 = performance.now();
    run.meter.begin(t0);
    await run.arrive(o.instances, c.capacity, o.spreadMs);
    return { settledMs: settledSince(t0, await run.settled(2_000, o.timeoutMs)) };
  });
}

export function rollingRestart(o: { instances: number; streams: number; gapMs: number; pauseMs: number }, v: Variant, c: Common): Promise<ScenarioResult> {
  const how = v.returnWithinMs ? "intent to return" : "plain leave";
  return runScenario(`rolling restart ${o.instances}x${o.streams}, ${how}`, v, c, { streams: o.streams, strict: false }, async (run) => {
    const t0 = await balancedFleet(run, o.instances, c);
    for (const id of run.fleet.ids) {
      await run.fleet.restart(id, o.gapMs, v.returnWithinMs);
      await sleep(o.pauseMs);
    }
    const settledMs = settledSince(t0, await run.settled(2_000, 120_000));
    return { settledMs, gapStreamMs: run.fleet.gaps.reduce((sum, g) => sum + g.ms * g.streams, 0) };
  });
}

export function orchestratorRestart(o: { instances: number; streams: number; strict: boolean }, v: Variant, c: Common): Promise<ScenarioResult> {
  const kind = o.strict ? "strict" : "non-strict";
  return runScenario(`orchestrator restart, ${kind}`, v, c, { streams: o.streams, strict: o.strict }, async (run) => {
    const t0 = await balancedFleet(run, o.instances, c);
    const tookMs = await run.orchestrator.restart();
    c.log(`  orchestrator back after ${Math.round(tookMs)} ms`);
    return { settledMs: await reconnectedAndQuiet(run, o.instances, t0, c, "after SIGTERM") };
  });
}

export function networkBlip(o: { instances: number; streams: number; strict: boolean; blipMs: number }, v: Variant, c: Common): Promise<ScenarioResult> {
  const kind = o.strict ? "strict" : "non-strict";
  return runScenario(`network blip ${o.blipMs / 1000} s, ${kind}`, v, c, { streams: o.streams, strict: o.strict, viaProxy: true }, async (run) => {
    const t0 = await balancedFleet(run, o.instances, c);
    await blip(run, o.blipMs);
    return { settledMs: await reconnectedAndQuiet(run, o.instances, t0, c, "after the blip began") };
  });
}

export function capacityDeploy(o: { instances: number; streams: number; addPercent: number }, v: Variant, c: Common): Promise<ScenarioResult> {
  return runScenario(`deploy +${o.addPercent} % capacity`, v, c, { streams: o.streams, strict: false }, async (run) => {
    const t0 = await balancedFleet(run, o.instances, c);
    await run.arrive(Math.max(1, Math.round((o.instances * o.addPercent) / 100)), c.capacity, 0, o.instances);
    return { settledMs: settledSince(t0, await run.settled(2_000, 60_000)) };
  });
}

/** Every connection through the proxy is reset and new ones refused for `ms`. */
export async function blip(run: PlannedRun, ms: number): Promise<void> {
  run.proxy?.cut();
  await sleep(ms);
  run.proxy?.heal();
}
