/** Half-open time intervals [from, to) and the few measures the coverage meter needs. */

export type Interval = readonly [from: number, to: number];

/** The disjoint, sorted union of `intervals` (empty ones dropped). */
export function union(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Total length of `intervals`, overlaps counted as often as they overlap. */
export function measure(intervals: readonly Interval[]): number {
  let total = 0;
  for (const [a, b] of intervals) if (b > a) total += b - a;
  return total;
}

/**
 * A set of disjoint intervals asked, many times, how much of it lies inside a given
 * interval: a prefix sum and a binary search, so each question costs O(log n).
 */
export class MeasureIndex {
  readonly #starts: number[];
  readonly #ends: number[];
  /** #before[i]: total length of intervals 0..i-1. */
  readonly #before: number[];

  constructor(intervals: readonly Interval[]) {
    const set = union(intervals);
    this.#starts = set.map(([a]) => a);
    this.#ends = set.map(([, b]) => b);
    this.#before = [0];
    for (const [a, b] of set) this.#before.push((this.#before[this.#before.length - 1] as number) + (b - a));
  }

  /** Length of the set before time `t`. */
  #upTo(t: number): number {
    // The last interval starting before t.
    let lo = 0;
    let hi = this.#starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.#starts[mid] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return 0;
    const i = lo - 1;
    return (this.#before[i] as number) + Math.min(t, this.#ends[i] as number) - (this.#starts[i] as number);
  }

  /** Length of the set inside [from, to). */
  within(from: number, to: number): number {
    return to > from ? this.#upTo(to) - this.#upTo(from) : 0;
  }

  /** Length of the set inside the union of `intervals` (which must be disjoint). */
  withinAll(intervals: readonly Interval[]): number {
    let total = 0;
    for (const [a, b] of intervals) total += this.within(a, b);
    return total;
  }
}
