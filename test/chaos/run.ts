/**
 * `npm run test:chaos`: every scenario of the chaos suite against real
 * processes and sockets, a table per scenario, exit 1 on any violation (with a
 * JSON report of the timelines). Flags:
 *   --short            the short run npm test includes (a few seconds of faults per scenario, a smaller fleet)
 *   --minutes N        soak: every fault but orchestrator crashes, for N minutes, on one orchestrator
 *                      process whose memory and event log are sampled every 30 s
 *   --scenario a,b     only these scenarios
 *   --seed N           replay a run's fault draws (printed with every result)
 *   --report FILE      where the JSON report goes (default: a temp file)
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { stopOnSignalsAndErrors } from "./emergency-stop.js";
import { runScenario, FLEET, SHORT_FLEET, type ScenarioResult } from "./scenario-run.js";
import { EXCLUSIVE, SCENARIOS, type FaultKind } from "./scenarios.js";
import { SoakSampler } from "./soak-sampler.js";

const { values } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    minutes: { type: "string" },
    scenario: { type: "string" },
    seed: { type: "string" },
    report: { type: "string" },
  },
});

function fail(message: string): never {
  process.stderr.write(`test:chaos: ${message}\n`);
  process.exit(2);
}

const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
if (minutes !== undefined && !(minutes > 0)) fail(`--minutes ${values.minutes}: must be a positive number`);
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
if (!Number.isInteger(seed)) fail(`--seed ${values.seed}: must be a whole number`);
const runs = SCENARIOS.filter((s) => (values.short ? s.shortMs : s.fullMs) > 0).map((s) => s.name);
const names = values.scenario?.split(",") ?? (minutes ? ["soak"] : runs);
const chosen = names.map((n) => SCENARIOS.find((s) => s.name === n) ?? fail(`--scenario ${n}: unknown (${SCENARIOS.map((s) => s.name).join(", ")})`));

/** What the run notes after a control-plane fault, printed under its table. */
const FOLLOW_UPS = new Set(["orchestrator serving again", "new leader serving", "restart check", "takeover moves"]);

function row(r: ScenarioResult): string[] {
  const faults = Object.entries(r.injected).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  return [r.scenario, String(r.seed), `${(r.faultMs / 1000).toFixed(0)} s`, faults, String(r.failovers), `${r.worstReactionMs} ms`, String(r.moves), String(r.overlaps), `${r.adminCalls.total} (${r.adminCalls.failed} failed, slowest ${r.adminCalls.slowestMs} ms)`, r.orchestratorRestartsMs.map((ms) => `${ms} ms`).join(", ") || "-", String(r.violations.length)];
}

function table(rows: string[][]): string {
  const head = ["scenario", "seed", "faults for", "faults injected", "failovers", "worst reaction", "moves", "overlaps", "admin calls", "restarts served after", "violations"];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

stopOnSignalsAndErrors();
const results: ScenarioResult[] = [];
const soak = minutes
  ? new SoakSampler((s) => process.stdout.write(`  soak sample: minute ${s.minute.toFixed(1)}, resident ${s.rssMiB} MiB, heap used ${s.heapUsedMiB} MiB, events ${s.events ?? "-"}\n`))
  : undefined;
const fleet = values.short ? SHORT_FLEET : FLEET;
process.stdout.write(`chaos: ${fleet.strict} strict instances and ${fleet.raw} raw sessions, capacity ${fleet.capacity} each, ${fleet.streams} streams; seed ${seed}\n`);
for (const [i, scenario] of chosen.entries()) {
  const faultMs = minutes ? minutes * 60_000 : values.short ? scenario.shortMs : scenario.fullMs;
  process.stdout.write(`\n== ${scenario.name}: ${(faultMs / 1000).toFixed(0)} s of faults (${Object.keys(scenario.faults).join(", ")})\n`);
  let result: ScenarioResult;
  try {
    result = await runScenario(scenario, { faultMs, fleet, seed: seed + i, onTick: soak ? (o) => soak.tick(o) : undefined });
  } catch (error) {
    // A scenario that could not run to its end (the orchestrator did not come back, the fleet never balanced) fails the run.
    const violation = { at: 0, kind: "scenario did not complete", detail: { error: error instanceof Error ? (error.stack ?? error.message) : String(error) } };
    const before = (error as { timeline?: ScenarioResult["timeline"] }).timeline ?? [];
    result = { scenario: scenario.name, seed: seed + i, faultMs, injected: {}, failovers: 0, moves: 0, events: {}, worstReactionMs: 0, overlaps: 0, orchestratorRestartsMs: [], adminCalls: { total: 0, failed: 0, slowestMs: 0 }, phasesMs: { setup: 0, faults: 0, settle: 0 }, violations: [violation], timeline: [...before, violation], runLog: [] };
  }
  results.push(result);
  process.stdout.write(`${table([row(result)])}\n`);
  const { setup, faults, settle } = result.phasesMs;
  process.stdout.write(`  start-up ${setup} ms, faults and heals ${faults} ms, settling ${settle} ms\n`);
  if (result.terms !== undefined) process.stdout.write(`  leadership terms that wrote: ${result.terms}\n`);
  // Each control-plane fault with what it hit (a replica fault: which replica, on a quiet fleet, during a rebalance or a drain) and what followed.
  const told = (kind: string) => (kind.startsWith("fault ") && EXCLUSIVE.has(kind.slice(6) as FaultKind)) || FOLLOW_UPS.has(kind);
  for (const e of result.timeline) if (told(e.kind)) process.stdout.write(`  ${e.kind} at ${e.at} ms ${JSON.stringify(e.detail ?? {})}\n`);
  for (const v of result.violations) process.stdout.write(`  VIOLATION at ${v.at} ms: ${v.kind} ${JSON.stringify(v.detail)}\n`);
}

process.stdout.write(`\n== all scenarios\n${table(results.map(row))}\n`);
if (soak) {
  process.stdout.write("\nsoak: minute, resident MiB, heap used MiB, events rows\n");
  for (const s of soak.samples) process.stdout.write(`  ${s.minute.toFixed(1).padStart(6)}  ${String(s.rssMiB).padStart(5)}  ${String(s.heapUsedMiB).padStart(5)}  ${s.events ?? "-"}\n`);
}
const violations = results.reduce((n, r) => n + r.violations.length, 0);
const report = values.report ?? path.join(tmpdir(), `finger-chaos-${seed}.json`);
writeFileSync(report, JSON.stringify({ seed, results: results.map((r) => (r.violations.length ? r : { ...r, timeline: undefined, runLog: undefined })), soak: soak?.samples }, null, 2));
process.stdout.write(`\nchaos: ${violations} violation(s); report: ${report}\n`);
process.exit(violations ? 1 : 0);
