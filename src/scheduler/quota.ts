/**
 * Capacity-weighted fair shares.
 *
 * With C the total capacity of eligible instances and T = min(total, C), instance i
 * gets floor(T*c_i/C), plus one when that division is inexact and i is chosen for one
 * of the spare units, so that |q_i - T*c_i/C| < 1 and the shares sum to T. Since
 * T*c_i/C < c_i whenever T < C, rounding up never exceeds capacity; when T = C every
 * share is the full capacity.
 *
 * Which instances round up only matters for movement. Spare units go, in order:
 * 1. to instances holding more than their floor, largest excess first: each such unit
 *    is one stream that does not have to move (this is what makes the plan minimal);
 * 2. to instances holding nothing, so that after a join the newcomer takes the unit
 *    rather than pulling an extra stream onto a busy instance;
 * 3. by largest remainder (closest to the next integer), the classic apportionment,
 *    which is also what a fleet planned from nothing ends up with;
 * with ties to the lower index.
 *
 * @param eligible non-zero for instances that may hold streams (already and-ed with live)
 * @param hold per instance, the streams it currently runs and could keep (≤ capacity)
 * @param total number of streams to share out
 */
export function computeQuotas(
  capacity: Uint32Array,
  eligible: Uint8Array,
  hold: Uint32Array,
  total: number,
): Uint32Array {
  const m = capacity.length;
  const quota = new Uint32Array(m);

  let capSum = 0;
  let capMax = 0;
  for (let i = 0; i < m; i++) {
    if (eligible[i] === 0) continue;
    const c = capacity[i]!;
    capSum += c;
    if (c > capMax) capMax = c;
  }
  if (capSum === 0) return quota;

  const share = Math.min(total, capSum);
  if (share === capSum) {
    for (let i = 0; i < m; i++) if (eligible[i] !== 0) quota[i] = capacity[i]!;
    return quota;
  }

  const rem = new Float64Array(m);
  const candidates: number[] = [];
  let spare = share;
  const exact = share * capMax + capSum <= Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < m; i++) {
    if (eligible[i] === 0) continue;
    const c = capacity[i]!;
    let q: number;
    let r: number;
    if (exact) {
      const a = share * c;
      q = Math.floor(a / capSum);
      // The quotient was rounded to a double; nudge it onto the exact integer floor.
      if (q * capSum > a) q--;
      else if ((q + 1) * capSum <= a) q++;
      r = a - q * capSum;
    } else {
      const a = BigInt(share) * BigInt(c);
      const bq = a / BigInt(capSum);
      q = Number(bq);
      r = Number(a - bq * BigInt(capSum));
    }
    quota[i] = q;
    rem[i] = r;
    if (r !== 0) candidates.push(i);
    spare -= q;
  }
  if (spare === 0) return quota;

  // Groups in rule order; a group that fits whole in the remaining spare needs no sort.
  const groups: number[][] = [[], [], []];
  const excess = new Float64Array(m);
  for (const i of candidates) {
    const x = hold[i]! - quota[i]!;
    if (x >= 1) {
      excess[i] = x;
      groups[0]!.push(i);
    } else {
      groups[hold[i] === 0 ? 1 : 2]!.push(i);
    }
  }
  for (const g of groups) {
    if (spare === 0) break;
    if (g.length > spare) g.sort((i, j) => excess[j]! - excess[i]! || rem[j]! - rem[i]! || i - j);
    const take = Math.min(spare, g.length);
    for (let k = 0; k < take; k++) quota[g[k]!]!++;
    spare -= take;
  }
  return quota;
}
