/**
 * Spreads `budget` units over `amounts`, always drawing from the largest remaining
 * amount, so the amounts left over end up as level as possible. Used both to choose
 * which over-quota instances give up streams under a rate limit and which under-quota
 * instances receive them when there are fewer streams than free slots.
 *
 * Returns per index the units drawn (at most amounts[i], summing to min(budget, sum)).
 * Leftover units at the final level go to the lowest indices, which keeps the
 * result deterministic.
 *
 * The level is found by binary search rather than sorting: O(M log max) without
 * allocating anything but the result.
 */
export function waterfill(amounts: Uint32Array, budget: number): Uint32Array {
  const m = amounts.length;
  const drawn = new Uint32Array(m);
  if (!(budget > 0)) return drawn;

  let total = 0;
  let max = 0;
  for (let i = 0; i < m; i++) {
    const a = amounts[i]!;
    total += a;
    if (a > max) max = a;
  }
  if (budget >= total) {
    drawn.set(amounts);
    return drawn;
  }

  // Smallest level t with above(t) <= budget; above(0) = total > budget, above(max) = 0.
  let lo = 0;
  let hi = max;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (above(amounts, mid) <= budget) hi = mid;
    else lo = mid;
  }
  const level = hi;

  let left = budget;
  for (let i = 0; i < m; i++) {
    const a = amounts[i]!;
    if (a > level) {
      drawn[i] = a - level;
      left -= a - level;
    }
  }
  // above(level - 1) > budget, so enough amounts sit at or over the level to absorb the rest.
  for (let i = 0; left > 0 && i < m; i++) {
    if (amounts[i]! >= level) {
      drawn[i]!++;
      left--;
    }
  }
  return drawn;
}

function above(amounts: Uint32Array, level: number): number {
  let sum = 0;
  for (let i = 0; i < amounts.length; i++) {
    const a = amounts[i]!;
    if (a > level) sum += a - level;
  }
  return sum;
}
