import type { ChurnAction } from "./churn-spec.js";
import { isFailure, type FaultRecord } from "./failover-tracker.js";
import type { CoverageReport } from "./coverage.js";
import type { Violation } from "./ledger.js";
import { formatMs, formatPercent, summarize, type Balance, type Summary } from "./stats.js";

/** Everything a finished (or interrupted) simulation found. */
export interface SimulationReport {
  /** The churn spec as run, or "none". */
  scenario: string;
  seed: number;
  /** Where the orchestrator ran and with which timings. */
  orchestrator: string;
  plannedMs: number;
  /** Scenario time actually run (shorter when interrupted). */
  elapsedMs: number;
  interrupted: boolean;
  instances: { initial: number; joined: number; upAtEnd: number; capacities: string };
  streams: number;
  faults: FaultRecord[];
  violations: Violation[];
  /** Streams that changed instance during the scenario. */
  moves: number;
  /** Starts and monitored stream-seconds over the scenario (src/simulator/coverage.ts). */
  coverage: CoverageReport;
  final: {
    balance?: Balance | undefined;
    /** Streams not running on any `up` instance, from the ledger. */
    unservedLedger: number;
    /** `streams.unassigned` of the last GetStatus, when it answered. */
    unassignedStatus?: number | undefined;
    statusError?: string | undefined;
  };
  /** Anything the reader should know (setup that did not converge, shortfalls). */
  notes: string[];
}

/** Failover figures of the faults that orphaned at least one stream. */
export interface FailoverStats {
  /** Failures that orphaned streams. */
  measured: number;
  /** Those whose orphans all run again. */
  recovered: number;
  summary?: Summary | undefined;
}

/** Failover statistics over `faults`, optionally of one action only. */
export function failoverStats(faults: readonly FaultRecord[], action?: ChurnAction): FailoverStats {
  const relevant = faults.filter((f) => isFailure(f.action) && f.orphans > 0 && (action === undefined || f.action === action));
  const durations = relevant.flatMap((f) => (f.failoverMs === undefined ? [] : [f.failoverMs]));
  return { measured: relevant.length, recovered: durations.length, summary: summarize(durations) };
}

/** Counts per action, in a fixed order: `kill 10, partition 5`. */
export function countFaults(faults: readonly FaultRecord[]): string {
  const counts = new Map<ChurnAction, number>();
  for (const f of faults) counts.set(f.action, (counts.get(f.action) ?? 0) + 1);
  const order: ChurnAction[] = ["kill", "partition", "restart", "leave", "join"];
  const parts = order.filter((a) => counts.has(a)).map((a) => `${a} ${counts.get(a)}`);
  return parts.length ? `${faults.length} (${parts.join(", ")})` : "0";
}

function describeFailovers(stats: FailoverStats): string {
  if (stats.measured === 0) return "none measured";
  const head = `${stats.recovered} of ${stats.measured} recovered`;
  const s = stats.summary;
  return s ? `${head}: p50 ${formatMs(s.p50)} · p99 ${formatMs(s.p99)} · max ${formatMs(s.max)}` : head;
}

/** Lays out rows as columns, left-aligned, two spaces apart. */
export function table(rows: readonly (readonly string[])[], indent = "  "): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")).join("\n");
}

const MAX_FAULT_ROWS = 40;

function faultRows(faults: readonly FaultRecord[]): string[][] {
  const rows = [["fault", "at", "instance", "orphans", "moved", "kept", "failover"]];
  for (const f of faults.slice(0, MAX_FAULT_ROWS)) {
    const outcome = !isFailure(f.action)
      ? f.upAfterMs === undefined ? "never up" : `up after ${formatMs(f.upAfterMs)}`
      : f.orphans === 0 ? "–" : f.failoverMs === undefined ? `unrecovered (${f.orphans - f.moved - f.kept} left)` : formatMs(f.failoverMs);
    const counts = isFailure(f.action) ? [String(f.orphans), String(f.moved), String(f.kept)] : ["", "", ""];
    rows.push([f.action, `${(f.atMs / 1000).toFixed(1)} s`, f.instanceId, ...counts, outcome]);
  }
  return rows;
}

function byActionRows(faults: readonly FaultRecord[]): string[][] {
  const rows = [["failovers by fault", "n", "recovered", "p50", "p99", "max"]];
  for (const action of ["kill", "partition", "restart", "leave"] as const) {
    const stats = failoverStats(faults, action);
    if (stats.measured === 0) continue;
    const s = stats.summary;
    rows.push([action, String(stats.measured), String(stats.recovered), s ? formatMs(s.p50) : "–", s ? formatMs(s.p99) : "–", s ? formatMs(s.max) : "–"]);
  }
  return rows;
}

/** The final report as text: a summary table, failovers by kind, then every fault. */
export function renderReport(r: SimulationReport): string {
  const all = failoverStats(r.faults);
  const b = r.final.balance;
  const unassigned =
    r.final.unassignedStatus !== undefined
      ? `${r.final.unservedLedger} not running on an up instance (ledger) · ${r.final.unassignedStatus} unassigned (GetStatus)`
      : `${r.final.unservedLedger} not running on an up instance (ledger) · GetStatus: ${r.final.statusError ?? "no answer"}`;
  const ran = r.interrupted ? `${formatMs(r.elapsedMs)} of ${formatMs(r.plannedMs)}, interrupted` : formatMs(r.elapsedMs);
  const summary = [
    ["scenario", `${r.scenario}  (seed ${r.seed}, ${ran})`],
    ["orchestrator", r.orchestrator],
    ["instances", `${r.instances.initial} at start, ${r.instances.joined} joined, ${r.instances.upAtEnd} up at end (capacity ${r.instances.capacities})`],
    ["streams", String(r.streams)],
    ["faults", countFaults(r.faults)],
    ["failovers", describeFailovers(all)],
    ["violations", String(r.violations.length)],
    ["moves", String(r.moves)],
    ["coverage", describeCoverage(r.coverage)],
    ["final spread", b ? `${b.spread.toFixed(1)} streams (load ${formatPercent(b.minLoad)} – ${formatPercent(b.maxLoad)})` : "–"],
    ["unassigned", unassigned],
  ];
  const parts = ["", "Simulation report", table(summary)];
  if (all.measured > 0) parts.push("", table(byActionRows(r.faults)));
  if (r.faults.length > 0) {
    parts.push("", table(faultRows(r.faults)));
    if (r.faults.length > MAX_FAULT_ROWS) parts.push(`  … and ${r.faults.length - MAX_FAULT_ROWS} more faults`);
  }
  if (r.violations.length > 0) {
    parts.push("", "  violations (first 10):");
    for (const v of r.violations.slice(0, 10)) {
      parts.push(`    ${formatMs(v.at)}  ${v.streamId} on ${v.instanceId} while running on ${v.otherId}`);
    }
  }
  for (const note of r.notes) parts.push(`  note: ${note}`);
  return `${parts.join("\n")}\n`;
}

/** Starts and monitored time in one line: what the scenario cost in songs that could be missed. */
export function describeCoverage(c: CoverageReport): string {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return (
    `${c.starts} starts (${c.extraStarts} extra) · unmonitored ${seconds(c.unmonitoredMs)} stream-time ` +
    `(${seconds(c.unmonitoredWarmMs)} with warm-up) · double ${seconds(c.doubleMs)} · ` +
    `monitored ${formatPercent(c.monitored)} (${formatPercent(c.monitoredWarm)} with warm-up; ceiling ${formatPercent(c.ceilingWarm)})`
  );
}
