/**
 * Scheduler benchmark: `node --import tsx bench/scheduler.ts [--quick]`.
 *
 * For each fleet size it times plan() from nothing assigned (full), after one instance
 * joins a balanced fleet, and after one instance of a balanced fleet dies, next to the
 * cost of merely copying the input arrays, which is the floor for any function that
 * returns a fresh assignment.
 */
import os from "node:os";
import { plan } from "../src/scheduler/plan.js";
import type { PlanInput } from "../src/scheduler/types.js";

interface Fleet {
  capacity: Uint32Array;
  eligible: Uint8Array;
  live: Uint8Array;
}

const quick = process.argv.includes("--quick");
const STREAMS = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
const INSTANCES = quick ? [100, 1_000] : [100, 1_000, 10_000];
const TARGETS: Record<string, { full?: number; incremental?: number }> = {
  "100000x1000": { full: 20, incremental: 2 },
  "1000000x10000": { full: 250 },
};

/** xorshift32: the bench needs reproducible fleets, not good randomness. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * Mixed capacities 10..200, scaled so the fleet has about 25 % headroom. One extra
 * instance at index m stays offline until the join scenario brings it up.
 */
function makeFleet(n: number, m: number): Fleet {
  const rand = rng(n * 31 + m);
  const scale = Math.max(1, Math.ceil((1.25 * n) / (m * 105)));
  const capacity = new Uint32Array(m + 1);
  for (let i = 0; i <= m; i++) capacity[i] = (10 + Math.floor(rand() * 191)) * scale;
  const eligible = new Uint8Array(m + 1).fill(1);
  const live = new Uint8Array(m + 1).fill(1);
  eligible[m] = 0;
  live[m] = 0;
  return { capacity, eligible, live };
}

function nowMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

interface Sample {
  median: number;
  min: number;
}

function measure(fn: () => unknown, iterations: number, warmup: number): Sample {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(nowMs(start));
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]! };
}

function copyInputs(input: PlanInput): number {
  const owner = input.owner.slice();
  const capacity = input.capacity.slice();
  const eligible = input.eligible.slice();
  const live = input.live.slice();
  return owner.length + capacity.length + eligible.length + live.length;
}

function fmt(x: number): string {
  return x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1);
}

function pad(s: string, w: number, left = false): string {
  return left ? s.padEnd(w) : s.padStart(w);
}

const cpu = os.cpus()[0];
console.log(`machine: ${cpu?.model ?? "unknown cpu"}, ${os.cpus().length} cores, node ${process.version}, ${os.platform()} ${os.arch()}`);
console.log("times in ms; median (min) of the timed runs after warm-up; copy = slice() of the four input arrays\n");

const header = [
  pad("streams", 9),
  pad("instances", 9),
  pad("scenario", 12, true),
  pad("plan median", 12),
  pad("plan min", 9),
  pad("copy median", 12),
  pad("ratio", 7),
  pad("changed", 9),
  pad("target", 10),
].join("  ");
console.log(header);
console.log("-".repeat(header.length));

const misses: string[] = [];
for (const n of STREAMS) {
  for (const m of INSTANCES) {
    const fleet = makeFleet(n, m);
    const nothing = new Int32Array(n).fill(-1);
    const full: PlanInput = { ...fleet, owner: nothing, maxLiveMoves: Infinity };
    const balanced = plan(full).target;

    const joined = { ...fleet, eligible: fleet.eligible.slice(), live: fleet.live.slice() };
    joined.eligible[m] = 1;
    joined.live[m] = 1;
    const died = { ...fleet, eligible: fleet.eligible.slice(), live: fleet.live.slice() };
    died.eligible[m >> 1] = 0;
    died.live[m >> 1] = 0;

    const scenarios: Array<[string, PlanInput, "full" | "incremental"]> = [
      ["full", full, "full"],
      ["join", { ...joined, owner: balanced, maxLiveMoves: Infinity }, "incremental"],
      ["death", { ...died, owner: balanced, maxLiveMoves: Infinity }, "incremental"],
    ];
    const size = n + m;
    const iterations = size >= 1_000_000 ? 9 : size >= 100_000 ? 31 : 101;
    const warmup = Math.max(3, iterations >> 2);
    for (const [name, input, kind] of scenarios) {
      const changed = plan(input).changed.length;
      const t = measure(() => plan(input), iterations, warmup);
      const copy = measure(() => copyInputs(input), iterations, warmup);
      const limit = TARGETS[`${n}x${m}`]?.[kind];
      const verdict = limit === undefined ? "" : t.median < limit ? `ok <${limit}` : `MISS <${limit}`;
      if (limit !== undefined && t.median >= limit) misses.push(`${n}x${m} ${name}`);
      console.log(
        [
          pad(n.toLocaleString("en-US"), 9),
          pad(m.toLocaleString("en-US"), 9),
          pad(name, 12, true),
          pad(fmt(t.median), 12),
          pad(fmt(t.min), 9),
          pad(fmt(copy.median), 12),
          pad(`${(t.median / copy.median).toFixed(1)}x`, 7),
          pad(String(changed), 9),
          pad(verdict, 10),
        ].join("  "),
      );
    }
  }
}
console.log(misses.length === 0 ? "\nall targets met" : `\ntargets missed: ${misses.join(", ")}`);
