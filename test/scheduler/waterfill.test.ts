import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { waterfill } from "../../src/scheduler/waterfill.js";

const amountsArb = fc
  .array(fc.integer({ min: 0, max: 50 }), { maxLength: 20, size: "max" })
  .map((a) => Uint32Array.from(a));

describe("waterfill", () => {
  it("draws from the largest amounts first and gives the last level to the lowest indices", () => {
    // Level 3 takes 2 + 2; the fifth unit goes to the lowest index at that level.
    assert.deepEqual(Array.from(waterfill(Uint32Array.from([5, 1, 5, 3]), 5)), [3, 0, 2, 0]);
    assert.deepEqual(Array.from(waterfill(Uint32Array.from([4, 4, 4]), 2)), [1, 1, 0]);
  });

  it("returns everything when the budget covers the total, nothing for a zero budget", () => {
    assert.deepEqual(Array.from(waterfill(Uint32Array.from([2, 0, 7]), Infinity)), [2, 0, 7]);
    assert.deepEqual(Array.from(waterfill(Uint32Array.from([2, 0, 7]), 0)), [0, 0, 0]);
  });

  it("draws min(budget, total), never more than an amount, and levels what remains", () => {
    fc.assert(
      fc.property(amountsArb, fc.integer({ min: 0, max: 400 }), (amounts, budget) => {
        const drawn = waterfill(amounts, budget);
        const total = amounts.reduce((a, b) => a + b, 0);
        assert.equal(
          drawn.reduce((a, b) => a + b, 0),
          Math.min(budget, total),
        );
        let maxLeftTouched = -Infinity;
        let minLeftOfTouched = Infinity;
        amounts.forEach((a, i) => {
          const d = drawn[i]!;
          assert.ok(d <= a);
          if (d > 0) minLeftOfTouched = Math.min(minLeftOfTouched, a - d);
          else maxLeftTouched = Math.max(maxLeftTouched, a);
        });
        // Nothing untouched stays above what a touched amount was brought down to,
        // and touched amounts end within one unit of each other.
        assert.ok(maxLeftTouched <= minLeftOfTouched + 1);
        const left = Array.from(amounts, (a, i) => a - drawn[i]!).filter((_, i) => drawn[i]! > 0);
        if (left.length > 0) assert.ok(Math.max(...left) - Math.min(...left) <= 1);
      }),
      { numRuns: 2000 },
    );
  });
});
