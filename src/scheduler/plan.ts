import { computeQuotas } from "./quota.js";
import type { PlanInput, PlanResult } from "./types.js";
import { assertPlanInput, badOwner } from "./validate.js";
import { waterfill } from "./waterfill.js";

/**
 * Computes the target assignment for one round. Pure: reads nothing but its input,
 * never mutates it, and returns fresh arrays, so equal inputs give identical output.
 *
 * Rules, in priority order:
 * - capacity is hard: a live instance holding more than its capacity sheds the excess
 *   at once, regardless of maxLiveMoves;
 * - orphans (owner not live) and unassigned streams are placed whenever a slot is free;
 * - every eligible instance converges to its capacity-weighted quota (see computeQuotas),
 *   keeping min(held, quota) of its own streams; streams leave live owners (draining
 *   instances first, then the most over-quota) at most maxLiveMoves per round;
 * - an instance giving streams up keeps its lowest stream indices and gives up the highest.
 *
 * Freed streams are placed in the order: taken from live owners, then orphans, then
 * unassigned, each by ascending index, so when slots run out the streams already
 * unassigned stay so and running streams are revoked last. Receivers are filled most
 * short of quota first.
 *
 * Cost: two passes over all streams, one over the freed ones, and O(M log M) work per
 * instance (dominated by ordering quota candidates), with no per-stream allocation.
 */
export function plan(input: PlanInput): PlanResult {
  assertPlanInput(input);
  const { capacity, eligible, live, owner } = input;
  const m = capacity.length;
  const n = owner.length;

  const held = new Uint32Array(m);
  let orphaned = 0;
  let unowned = 0;
  for (let s = 0; s < n; s++) {
    const o = owner[s]!;
    if (o < 0) {
      if (o !== -1) throw badOwner(s, o, m);
      unowned++;
    } else if (o >= m) {
      throw badOwner(s, o, m);
    } else if (live[o] !== 0) {
      held[o]!++;
    } else {
      orphaned++;
    }
  }

  const open = new Uint8Array(m);
  const hold = new Uint32Array(m);
  let overCapacity = 0;
  for (let i = 0; i < m; i++) {
    if (live[i] === 0) continue;
    const h = Math.min(held[i]!, capacity[i]!);
    hold[i] = h;
    overCapacity += held[i]! - h;
    if (eligible[i] !== 0) open[i] = 1;
  }

  const quota = computeQuotas(capacity, open, hold, n);

  // Draining comes before rebalancing: a draining instance is about to go away.
  const drainable = new Uint32Array(m);
  const surplus = new Uint32Array(m);
  let wantDrain = 0;
  let wantRebalance = 0;
  for (let i = 0; i < m; i++) {
    const x = hold[i]! - quota[i]!;
    if (x <= 0) continue;
    if (open[i] !== 0) {
      surplus[i] = x;
      wantRebalance += x;
    } else {
      drainable[i] = x;
      wantDrain += x;
    }
  }
  const budget = Math.min(Math.floor(input.maxLiveMoves), wantDrain + wantRebalance);
  const drainBudget = Math.min(budget, wantDrain);
  const drained = waterfill(drainable, drainBudget);
  const rebalanced = waterfill(surplus, budget - drainBudget);

  const keep = new Uint32Array(m);
  const deficit = new Uint32Array(m);
  let kept = 0;
  let deficitSum = 0;
  for (let i = 0; i < m; i++) {
    const k = hold[i]! - drained[i]! - rebalanced[i]!;
    keep[i] = k;
    kept += k;
    if (open[i] !== 0 && quota[i]! > k) {
      deficit[i] = quota[i]! - k;
      deficitSum += quota[i]! - k;
    }
  }

  // Pool segments: taken from live owners | orphans | unassigned, each ascending.
  const poolSize = n - kept;
  const fromLive = poolSize - orphaned - unowned;
  const pool = new Int32Array(poolSize);
  const target = new Int32Array(n);
  const room = keep.slice();
  let a = 0;
  let b = fromLive;
  let c = fromLive + orphaned;
  for (let s = 0; s < n; s++) {
    const o = owner[s]!;
    if (o < 0) {
      target[s] = -1;
      pool[c++] = s;
    } else if (live[o] === 0) {
      target[s] = -1;
      pool[b++] = s;
    } else if (room[o]! > 0) {
      room[o]!--;
      target[s] = o;
    } else {
      target[s] = -1;
      pool[a++] = s;
    }
  }

  const receive = waterfill(deficit, Math.min(poolSize, deficitSum));
  const load = keep;
  let assigned = 0;
  for (let i = 0; i < m; i++) {
    const r = receive[i]!;
    for (let j = 0; j < r; j++) target[pool[assigned++]!] = i;
    load[i]! += r;
  }

  const changed = changedStreams(pool, fromLive, orphaned, assigned);
  const moved = Math.min(assigned, fromLive);
  return {
    target,
    quota,
    load,
    changed,
    stats: {
      kept,
      placed: assigned - moved,
      moved,
      revoked: fromLive - moved,
      unassigned: poolSize - assigned,
      deferred: wantDrain + wantRebalance - budget,
      liveMoves: budget,
      overCapacity,
    },
  };
}

/**
 * Only pool streams can change, and all of them do except unassigned ones that stay
 * unassigned. Merging the three ascending segments avoids another pass over all streams.
 */
function changedStreams(
  pool: Int32Array,
  fromLive: number,
  orphaned: number,
  assigned: number,
): Int32Array {
  const endA = fromLive;
  const endB = fromLive + orphaned;
  // Unassigned streams are assigned in pool order, so those placed form a prefix of segment C.
  const endC = Math.max(endB, assigned);
  const out = new Int32Array(endC);
  let a = 0;
  let b = endA;
  let c = endB;
  for (let k = 0; k < endC; k++) {
    const sa = a < endA ? pool[a]! : 0x7fffffff;
    const sb = b < endB ? pool[b]! : 0x7fffffff;
    const sc = c < endC ? pool[c]! : 0x7fffffff;
    if (sa < sb && sa < sc) {
      out[k] = sa;
      a++;
    } else if (sb < sc) {
      out[k] = sb;
      b++;
    } else {
      out[k] = sc;
      c++;
    }
  }
  return out;
}
