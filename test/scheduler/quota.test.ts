import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { computeQuotas } from "../../src/scheduler/quota.js";

function quotas(capacity: number[], hold: number[], total: number, eligible?: number[]): number[] {
  return Array.from(
    computeQuotas(
      Uint32Array.from(capacity),
      Uint8Array.from(eligible ?? capacity.map(() => 1)),
      Uint32Array.from(hold),
      total,
    ),
  );
}

describe("computeQuotas", () => {
  it("gives exact shares when the division is exact", () => {
    assert.deepEqual(quotas([10, 20, 30], [0, 0, 0], 12), [2, 4, 6]);
  });

  it("caps every share at capacity when streams outnumber slots", () => {
    assert.deepEqual(quotas([1, 2, 3], [0, 0, 0], 100), [1, 2, 3]);
  });

  it("gives nothing to non-eligible instances and nothing when no capacity is open", () => {
    assert.deepEqual(quotas([5, 5], [0, 0], 4, [1, 0]), [4, 0]);
    assert.deepEqual(quotas([0, 0], [0, 0], 4), [0, 0]);
  });

  it("rounds up, from nothing, the largest remainders", () => {
    // Shares 7*[2,3,5]/10 = 1.4, 2.1, 3.5: floors 1,2,3 and one spare unit.
    assert.deepEqual(quotas([2, 3, 5], [0, 0, 0], 7), [1, 2, 4]);
  });

  it("rounds up instances holding above their floor before anyone else", () => {
    // Same shares, but instance 1 already runs 3 streams: keeping them saves a move.
    assert.deepEqual(quotas([2, 3, 5], [1, 3, 3], 7), [1, 3, 3]);
  });

  it("prefers an empty instance over a busy one sitting at its floor", () => {
    // Shares 8*[1,5,9]/15 = 0.53, 2.67, 4.8: floors 0,2,4 and two spare units. Instance 2
    // holds 6 and keeps one unit. Largest remainder would pick instance 1 (0.67), pulling
    // a stream onto a busy instance; the empty newcomer takes it instead.
    assert.deepEqual(quotas([1, 5, 9], [0, 2, 6], 8), [1, 2, 5]);
  });

  it("stays exact when capacity times streams exceeds 2^53", () => {
    const big = 0xffffffff;
    const q = quotas([big, big, 1], [0, 0, 0], 5_000_000);
    assert.equal(q.reduce((a, b) => a + b, 0), 5_000_000);
    assert.deepEqual(q, [2_500_000, 2_500_000, 0]);
  });
});
