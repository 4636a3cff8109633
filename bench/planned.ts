/**
 * Planned-events benchmark: `node --import tsx bench/planned.ts [--quick] [--only a,b]`.
 *
 * Cold starts, rolling restarts, orchestrator restarts, a network blip, a deploy that adds
 * capacity and a compressed day, on real worker clients over gRPC against an orchestrator
 * process on its own PostgreSQL, each measured as coverage (src/simulator/coverage.ts):
 * starts, extra starts, moves, unmonitored and double-monitored stream-seconds. Each scenario
 * runs with this build's defaults and, as the reference in the same run, with the
 * planned-event features turned off (bench/lib/planned-scenarios.ts).
 */
import { parseArgs } from "./lib/args.js";
import { compressedDay } from "./lib/planned-day.js";
import { capacityDeploy, coldStart, networkBlip, orchestratorRestart, rollingRestart, VARIANTS, type Common, type ScenarioResult, type Variant } from "./lib/planned-scenarios.js";
import { IDENTIFICATION_WINDOW_MS } from "../src/domain/limits.js";
import type { CoverageReport } from "../src/simulator/coverage.js";
import { runMain } from "./lib/process.js";
import { finish, int, printHeader, printTable, type TargetResult } from "./lib/report.js";

const SCENARIOS = ["cold", "cold-large", "rolling", "restart", "blip", "deploy", "day"] as const;
type Scenario = (typeof SCENARIOS)[number];

const { quick, flags } = parseArgs("planned", "Coverage through planned events, next to the same build with its planned-event features off.", {
  only: { help: `comma-separated subset of ${SCENARIOS.join(", ")}`, full: SCENARIOS.join(","), quick: "cold,rolling,restart" },
  variants: { help: "any of new, known-fleet (cold starts and the day only), reference", full: "new,known-fleet,reference", quick: "new,reference" },
  instances: { help: "workers in the small fleets", full: 20, quick: 5 },
  streams: { help: "streams for the small fleets", full: 400, quick: 50 },
  largeInstances: { help: "workers in the large cold start", full: 500 },
  largeStreams: { help: "streams in the large cold start", full: 20_000 },
  largeSpreadMs: { help: "arrival spread of the large cold start", full: 5_000 },
  dayInstances: { help: "workers in the restart, blip and day scenarios", full: 30, quick: 5 },
  dayStreams: { help: "streams in the restart, blip and day scenarios", full: 600, quick: 50 },
  daySeconds: { help: "length of the compressed day", full: 240, quick: 40 },
  capacity: { help: "capacity of every worker", full: 100, quick: 20 },
  warmUpMs: { help: "warm-up counted after each start (the identification window)", full: IDENTIFICATION_WINDOW_MS, quick: 1_000 },
  heartbeatIntervalMs: { help: "HEARTBEAT_INTERVAL_MS (the default)", full: 2_000 },
  leaseTtlMs: { help: "LEASE_TTL_MS (the default)", full: 6_000 },
  restartHeartbeatIntervalMs: { help: "HEARTBEAT_INTERVAL_MS of the orchestrator restarts (short: a lease shorter than the restart)", full: 1_000 },
  restartLeaseTtlMs: { help: "LEASE_TTL_MS of the orchestrator restarts", full: 3_000 },
  settleMs: { help: "PLACEMENT_SETTLE_MS of the new variant (unset: the orchestrator's default)", full: -1 },
});

const only = new Set(flags.only.split(",").map((s) => s.trim()).filter(Boolean));
for (const s of only) if (!SCENARIOS.includes(s as Scenario)) throw new Error(`--only: unknown scenario "${s}" (one of ${SCENARIOS.join(", ")})`);
const variants = VARIANTS.filter((v) => flags.variants.split(",").includes(v.name)).map((v) =>
  v.name === "new" && flags.settleMs >= 0 ? { ...v, env: { ...v.env, PLACEMENT_SETTLE_MS: flags.settleMs } } : v,
);

const pct = (x: number): string => `${(100 * x).toFixed(2)}`;
const s1 = (msValue: number): string => (Number.isNaN(msValue) ? "-" : (msValue / 1000).toFixed(1));

runMain(async () => {
  printHeader("planned: coverage through planned events", { ...flags }, quick);
  const common: Common = {
    capacity: flags.capacity,
    warmUpMs: flags.warmUpMs,
    timing: { HEARTBEAT_INTERVAL_MS: flags.heartbeatIntervalMs, LEASE_TTL_MS: flags.leaseTtlMs },
    log: (line) => console.log(line),
  };
  // A lease shorter than the restart itself: what strict instances could not ride out without the restart lease.
  const shortLease: Common = { ...common, timing: { HEARTBEAT_INTERVAL_MS: flags.restartHeartbeatIntervalMs, LEASE_TTL_MS: flags.restartLeaseTtlMs } };
  const small = { instances: flags.instances, streams: flags.streams };
  const fleet = { instances: flags.dayInstances, streams: flags.dayStreams };
  // Only these begin with a cold start, where the fleet's size can matter.
  const knowsFleetIn = new Set<Scenario>(["cold", "cold-large", "day"]);
  const plan: Array<[Scenario, (v: Variant) => Promise<ScenarioResult>]> = [
    ["cold", (v) => coldStart({ ...small, spreadMs: 3_000, timeoutMs: 60_000 }, v, common)],
    ["cold-large", (v) => coldStart({ instances: flags.largeInstances, streams: flags.largeStreams, spreadMs: flags.largeSpreadMs, timeoutMs: 60_000 }, v, common)],
    ["rolling", (v) => rollingRestart({ ...small, gapMs: 1_000, pauseMs: 500 }, v, common)],
    ["restart", (v) => orchestratorRestart({ ...fleet, strict: true }, v, shortLease)],
    ["restart", (v) => orchestratorRestart({ ...fleet, strict: false }, v, shortLease)],
    ["blip", (v) => networkBlip({ ...fleet, strict: true, blipMs: 2_000 }, v, common)],
    ["blip", (v) => networkBlip({ ...fleet, strict: false, blipMs: 2_000 }, v, common)],
    ["deploy", (v) => capacityDeploy({ ...small, addPercent: 10 }, v, common)],
    ["day", (v) => compressedDay({ ...fleet, dayMs: flags.daySeconds * 1000, strict: true }, v, common)],
    ["day", (v) => compressedDay({ ...fleet, dayMs: flags.daySeconds * 1000, strict: false }, v, common)],
  ];
  const results: ScenarioResult[] = [];
  const failed: string[] = [];
  for (const [name, run] of plan) {
    if (!only.has(name)) continue;
    for (const v of variants) {
      if (v.knowsFleet && !knowsFleetIn.has(name)) continue;
      // One scenario that fails to run costs its row, not the whole (long) run.
      try {
        results.push(await run(v));
      } catch (error) {
        failed.push(`${name} (${v.name}): ${error instanceof Error ? error.message : String(error)}`);
        console.log(`FAILED ${failed[failed.length - 1]}`);
      }
    }
  }

  console.log(`\nstream-seconds; "warm": the ${flags.warmUpMs / 1000} s after each start counted as unmonitored; ceiling: a perfect orchestrator, warm-up counted\n`);
  printTable(
    ["<scenario", "<variant", "settled s", ...COLUMNS, "unmon. warm", "warm %", "ceiling %"],
    results.map((r) => [
      r.scenario,
      r.variant,
      s1(r.settledMs),
      ...coverageCells(r.report),
      s1(r.report.unmonitoredWarmMs),
      pct(r.report.monitoredWarm),
      pct(r.report.ceilingWarm),
    ]),
  );
  for (const r of results.filter((x) => x.phases)) {
    console.log(`\n${r.scenario} (${r.variant}), phase by phase:\n`);
    // No warm-up columns: a phase's last warm-ups run on into the next one.
    printTable(["<phase", "s", ...COLUMNS], (r.phases ?? []).map((p) => [p.name, s1(p.report.windowMs), ...coverageCells(p.report)]));
  }
  finish({ bench: "planned", quick, targets: results.filter((r) => r.variant !== "reference").flatMap(targetsOf) });
  if (failed.length) throw new Error(`${failed.length} scenario runs failed:\n${failed.join("\n")}`);
});

const COLUMNS = ["starts", "extra", "extra %", "moves", "unmonitored", "double", "monitored %"];

/** The figures under {@link COLUMNS}: starts, then stream-seconds. */
function coverageCells(c: CoverageReport): string[] {
  return [int(c.starts), int(c.extraStarts), ((100 * c.extraStarts) / c.streams).toFixed(1), int(c.moves), s1(c.unmonitoredMs), s1(c.doubleMs), pct(c.monitored)];
}

/** The targets for the rows of this build. */
function targetsOf(r: ScenarioResult): TargetResult[] {
  return targetsOfScenario(r).map((t) => (r.variant === "new" ? t : { ...t, name: `${t.name} (${r.variant})` }));
}

function targetsOfScenario(r: ScenarioResult): TargetResult[] {
  const extra = r.report.extraStarts / r.report.streams;
  const extraTarget = (name: string): TargetResult => ({ name: `${name}: extra starts`, target: "<= 2 % of streams", value: `${int(r.report.extraStarts)} (${(100 * extra).toFixed(1)} %)`, met: extra <= 0.02 });
  const nothingMoves = (name: string): TargetResult => ({
    name: `${name}: moves and restarts`,
    target: "0 and 0",
    value: `${r.report.moves} moves, ${r.report.extraStarts} restarts`,
    met: r.report.moves === 0 && r.report.extraStarts === 0,
  });
  const cold = /^cold start (\d+)x/.exec(r.scenario);
  if (cold) {
    const spreadMs = Number(cold[1]) >= 500 ? flags.largeSpreadMs : 3_000;
    const slackMs = Number(cold[1]) >= 500 ? 3_000 : 2_000;
    return [
      {
        name: `${r.scenario}: balanced after`,
        target: `<= ${(spreadMs + slackMs) / 1000} s (spread + ${slackMs / 1000} s)`,
        value: Number.isNaN(r.settledMs) ? "not balanced within 60 s" : `${s1(r.settledMs)} s`,
        met: r.settledMs <= spreadMs + slackMs,
      },
      extraTarget(r.scenario),
    ];
  }
  if (r.scenario.startsWith("rolling restart")) {
    const gaps = r.gapStreamMs ?? 0;
    return [
      extraTarget(r.scenario),
      // A gap ends at the new process's welcome; its assignment is applied a moment later, hence the 1 %.
      {
        name: `${r.scenario}: unmonitored`,
        target: `<= the restart gaps + 1 %, ${s1(gaps * 1.01)} stream-s`,
        value: `${s1(r.report.unmonitoredMs)} stream-s (gaps ${s1(gaps)})`,
        met: r.report.unmonitoredMs <= gaps * 1.01,
      },
    ];
  }
  if (r.scenario.startsWith("orchestrator restart") || r.scenario.startsWith("network blip")) return [nothingMoves(r.scenario)];
  if (r.scenario.startsWith("compressed day")) {
    return [
      { name: `${r.scenario}: monitored, no warm-up`, target: ">= 99.9 %", value: `${pct(r.report.monitored)} %`, met: r.report.monitored >= 0.999 },
      {
        name: `${r.scenario}: monitored, warm-up counted`,
        target: `>= ceiling - 2 points (${pct(r.report.ceilingWarm - 0.02)} %)`,
        value: `${pct(r.report.monitoredWarm)} %`,
        met: r.report.monitoredWarm >= r.report.ceilingWarm - 0.02,
      },
    ];
  }
  return [];
}
