/** Pure statistics behind the live view and the report. */

/** Summary of a set of durations (or any numbers). */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * The nearest-rank percentile: the smallest value with at least `p` % of the values at or
 * below it. No interpolation, so every reported figure is one that was actually measured.
 * @param sorted ascending values; must not be empty.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError("percentile of no values");
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** p50, p99 and max of `values`; undefined when there are none. */
export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] as number };
}

/** How evenly streams are spread over instances. */
export interface Balance {
  /**
   * Largest minus smallest deviation from the fair share, in streams. The fair share of an
   * instance is its capacity's part of all running streams; the orchestrator promises each
   * instance its share within ±1, so a settled fleet shows at most about 2.
   */
  spread: number;
  /** Lowest and highest running/capacity over the instances with capacity. */
  minLoad: number;
  maxLoad: number;
}

/** Balance of a set of instances; undefined when none has any capacity. */
export function balance(loads: ReadonlyArray<{ running: number; capacity: number }>): Balance | undefined {
  const counted = loads.filter((l) => l.capacity > 0);
  if (counted.length === 0) return undefined;
  const total = counted.reduce((sum, l) => sum + l.running, 0);
  const capacity = counted.reduce((sum, l) => sum + l.capacity, 0);
  // No instance runs more than its capacity, so total <= capacity and no share needs capping.
  const deviations = counted.map((l) => l.running - (total * l.capacity) / capacity);
  const ratios = counted.map((l) => l.running / l.capacity);
  return {
    spread: Math.max(...deviations) - Math.min(...deviations),
    minLoad: Math.min(...ratios),
    maxLoad: Math.max(...ratios),
  };
}

/** Formats milliseconds for people: `850 ms`, `1.21 s`, `12.3 s`, `2m05s`. */
export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1_000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1_000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

/** Formats a ratio as a percentage with one decimal. */
export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}
