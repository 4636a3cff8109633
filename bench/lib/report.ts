/**
 * Printing for the benchmark programs: the machine, the parameters, aligned
 * tables, percentiles, and one machine-readable result line that `bench/all.ts`
 * collects into its summary.
 */
import os from "node:os";

/** The line `bench/all.ts` looks for: the marker followed by a BenchResult as JSON. */
export const RESULT_MARKER = "BENCH_RESULT ";

/** One target of a benchmark and whether this run met it. */
export interface TargetResult {
  name: string;
  /** The target as a person reads it, e.g. "< 1500 ms". */
  target: string;
  /** The measured value as printed, e.g. "1120 ms". */
  value: string;
  met: boolean;
}

export interface BenchResult {
  bench: string;
  quick: boolean;
  targets: TargetResult[];
  /** Extra numbers worth showing in the summary (name -> printed value). */
  notes?: Record<string, string>;
}

export function machineDescription(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model?.trim() ?? "unknown cpu";
  const gib = (os.totalmem() / 2 ** 30).toFixed(1);
  const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
  return `${model}, ${cpus.length} cores, ${gib} GiB, node ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}; load average ${load}`;
}

/** The URL without its password, for messages and headers. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, "$1:***@");
}

/** Prints the title, the machine and the parameters every program starts with. */
export function printHeader(title: string, params: Record<string, unknown>, quick: boolean): void {
  console.log(`== ${title}${quick ? " (--quick)" : ""}`);
  console.log(`machine: ${machineDescription()}`);
  console.log(`started: ${new Date().toISOString()}`);
  const entries = Object.entries(params).map(([k, v]) => `${k}=${typeof v === "number" ? v.toLocaleString("en-US") : redactUrl(String(v))}`);
  console.log(`parameters: ${entries.join(", ")}`);
  console.log("");
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
}

export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    min: sorted.length ? sorted[0]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Milliseconds with sensible precision. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return "-";
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
}

export function int(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "-";
}

export function mib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : "-";
}

/** Prints an aligned table; columns whose header starts with "<" are left-aligned. */
export function printTable(headers: string[], rows: Array<Array<string | number>>): void {
  const left = headers.map((h) => h.startsWith("<"));
  const head = headers.map((h) => (h.startsWith("<") ? h.slice(1) : h));
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? c.toLocaleString("en-US") : c)));
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (left[i] ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join("  ").trimEnd();
  console.log(line(head));
  console.log(width.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells) console.log(line(r));
}

/** Prints the targets as a short list and the result line for bench/all.ts. */
export function finish(result: BenchResult): void {
  console.log("");
  if (result.targets.length) {
    console.log("targets:");
    for (const t of result.targets) console.log(`  ${t.met ? "met   " : "MISSED"}  ${t.name}: ${t.value} (target ${t.target})`);
  }
  console.log(`${RESULT_MARKER}${JSON.stringify(result)}`);
}
