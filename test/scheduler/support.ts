import fc from "fast-check";
import type { PlanInput } from "../../src/scheduler/types.js";

/** Small fleets keep shrinking readable and let tests recount everything naively. */
export interface FleetBounds {
  maxInstances?: number;
  maxStreams?: number;
  maxCapacity?: number;
  /** "unlimited" pins maxLiveMoves to Infinity; "any" also draws 0 and small limits. */
  limit?: "unlimited" | "any";
}

const flag = (pTrue: number) =>
  fc.integer({ min: 0, max: 99 }).map((x) => (x < pTrue * 100 ? 1 : 0));

/** Arbitrary inputs: dead, draining, zero-capacity and over-capacity instances included. */
export function planInputArb(bounds: FleetBounds = {}): fc.Arbitrary<PlanInput> {
  const { maxInstances = 8, maxStreams = 60, maxCapacity = 15, limit = "any" } = bounds;
  return fc.integer({ min: 0, max: maxInstances }).chain((m) =>
    fc.record({
      capacity: fc
        .array(fc.integer({ min: 0, max: maxCapacity }), { minLength: m, maxLength: m })
        .map((a) => Uint32Array.from(a)),
      eligible: fc.array(flag(0.8), { minLength: m, maxLength: m }).map((a) => Uint8Array.from(a)),
      live: fc.array(flag(0.85), { minLength: m, maxLength: m }).map((a) => Uint8Array.from(a)),
      owner: fc
        .array(fc.integer({ min: -1, max: m - 1 }), { maxLength: maxStreams, size: "max" })
        .map((a) => Int32Array.from(a)),
      maxLiveMoves:
        limit === "unlimited"
          ? fc.constant(Infinity)
          : fc.oneof(fc.constant(Infinity), fc.constant(0), fc.integer({ min: 1, max: 12 })),
    }),
  );
}

/** A healthy fleet: every instance connected, eligible, with capacity >= 1. */
export function healthyFleetArb(maxInstances = 10, maxCapacity = 30): fc.Arbitrary<Uint32Array> {
  return fc
    .array(fc.integer({ min: 1, max: maxCapacity }), { minLength: 1, maxLength: maxInstances })
    .map((a) => Uint32Array.from(a));
}

export function healthyInput(capacity: Uint32Array, owner: Int32Array, maxLiveMoves = Infinity): PlanInput {
  const m = capacity.length;
  return {
    capacity,
    eligible: new Uint8Array(m).fill(1),
    live: new Uint8Array(m).fill(1),
    owner,
    maxLiveMoves,
  };
}

export function unassigned(n: number): Int32Array {
  return new Int32Array(n).fill(-1);
}

/** Per instance, how many entries of `assignment` name it. */
export function countPerInstance(assignment: Int32Array, m: number): number[] {
  const counts = new Array<number>(m).fill(0);
  for (const o of assignment) if (o >= 0) counts[o]!++;
  return counts;
}

/** Facts about an input, recomputed naively and independently of the scheduler. */
export interface Facts {
  m: number;
  n: number;
  open: boolean[];
  /** Streams each live instance owns now (0 for dead instances). */
  cur: number[];
  /** Total capacity of eligible live instances. */
  capSum: number;
  /** min(n, capSum) */
  share: number;
  deadOwned: number;
  unowned: number;
}

export function facts(input: PlanInput): Facts {
  const m = input.capacity.length;
  const n = input.owner.length;
  const open = Array.from({ length: m }, (_, i) => input.eligible[i] !== 0 && input.live[i] !== 0);
  const cur = new Array<number>(m).fill(0);
  let deadOwned = 0;
  let unowned = 0;
  for (const o of input.owner) {
    if (o < 0) unowned++;
    else if (input.live[o] !== 0) cur[o]!++;
    else deadOwned++;
  }
  let capSum = 0;
  for (let i = 0; i < m; i++) if (open[i]) capSum += input.capacity[i]!;
  return { m, n, open, cur, capSum, share: Math.min(n, capSum), deadOwned, unowned };
}

/**
 * The least number of moves any quota vector within the ±1 rule allows, from first
 * principles: every instance sheds down to its quota, dead-owned streams always change,
 * and each spare unit given to an instance above its floor saves one move.
 */
export function minimumMoves(input: PlanInput, placedUnowned: number): number {
  const f = facts(input);
  let shed = 0;
  let spare = f.share;
  let savers = 0;
  for (let i = 0; i < f.m; i++) {
    if (!f.open[i]) {
      shed += f.cur[i]!;
      continue;
    }
    const num = BigInt(f.share) * BigInt(input.capacity[i]!);
    const floor = f.capSum === 0 ? 0 : Number(num / BigInt(f.capSum));
    const inexact = f.capSum !== 0 && num % BigInt(f.capSum) !== 0n;
    spare -= floor;
    shed += Math.max(0, f.cur[i]! - floor);
    if (inexact && f.cur[i]! >= floor + 1) savers++;
  }
  return shed - Math.min(spare, savers) + f.deadOwned + placedUnowned;
}

/** Copies every array of the input so tests can check it was not mutated. */
export function snapshot(input: PlanInput): PlanInput {
  return {
    capacity: input.capacity.slice(),
    eligible: input.eligible.slice(),
    live: input.live.slice(),
    owner: input.owner.slice(),
    maxLiveMoves: input.maxLiveMoves,
  };
}

/** Inserts a new instance at index `at`, shifting owner indices above it. */
export function withInstanceAt(capacity: Uint32Array, owner: Int32Array, at: number, cap: number) {
  const caps = Array.from(capacity);
  caps.splice(at, 0, cap);
  return {
    capacity: Uint32Array.from(caps),
    owner: owner.map((o) => (o >= at ? o + 1 : o)),
  };
}
