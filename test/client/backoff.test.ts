import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Backoff, backoffCeiling, fullJitterDelay, resolveBackoff } from "../../src/client/index.js";

describe("backoff", () => {
  test("defaults are 100 ms initial and 1 s max", () => {
    assert.deepEqual(resolveBackoff(), { initialMs: 100, maxMs: 1_000 });
    assert.deepEqual(resolveBackoff({ initialMs: 50 }), { initialMs: 50, maxMs: 1_000 });
    assert.deepEqual(resolveBackoff({ initialMs: 5_000 }), { initialMs: 5_000, maxMs: 5_000 });
  });

  test("invalid options are rejected", () => {
    assert.throws(() => resolveBackoff({ initialMs: -1 }), RangeError);
    assert.throws(() => resolveBackoff({ initialMs: 500, maxMs: 100 }), RangeError);
    assert.throws(() => resolveBackoff({ maxMs: Number.POSITIVE_INFINITY }), RangeError);
    assert.throws(() => new Backoff({ initialMs: Number.NaN }), RangeError);
  });

  test("the ceiling doubles per attempt and stops at maxMs", () => {
    const options = resolveBackoff({ initialMs: 250, maxMs: 15_000 });
    const ceilings = Array.from({ length: 9 }, (_, attempt) => backoffCeiling(attempt, options));
    assert.deepEqual(ceilings, [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
    assert.equal(backoffCeiling(10_000, options), 15_000, "huge attempts stay finite");
  });

  test("a zero initial delay never yields NaN", () => {
    const options = resolveBackoff({ initialMs: 0, maxMs: 0 });
    assert.equal(backoffCeiling(2_000, options), 0);
    assert.equal(fullJitterDelay(3, options), 0);
  });

  test("full jitter maps random [0, 1) onto [0, ceiling)", () => {
    const options = resolveBackoff({ initialMs: 100, maxMs: 1_000 });
    assert.equal(fullJitterDelay(2, options, () => 0), 0);
    assert.equal(fullJitterDelay(2, options, () => 0.5), 200);
    assert.equal(fullJitterDelay(2, options, () => 0.999_999), 399);
    assert.equal(fullJitterDelay(20, options, () => 0.999_999), 999);
  });

  test("every delay stays within its attempt's bounds, and delays are spread out", () => {
    const backoff = new Backoff({ initialMs: 10, maxMs: 640 });
    const atMax: number[] = [];
    for (let attempt = 0; attempt < 2_000; attempt++) {
      const ceiling = backoffCeiling(backoff.attempt, backoff.options);
      const delay = backoff.next();
      assert.ok(Number.isInteger(delay) && delay >= 0 && delay < Math.max(ceiling, 1), `delay ${delay} ceiling ${ceiling}`);
      if (ceiling === 640) atMax.push(delay);
    }
    assert.ok(new Set(atMax).size > 100, "delays are jittered, not constant");
    assert.ok(Math.max(...atMax) > 480 && Math.min(...atMax) < 160, "jitter covers the whole range");
  });

  test("next() grows the attempt and reset() starts over", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000 }, () => 0.999);
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [99, 199, 399]);
    assert.equal(backoff.attempt, 3);
    backoff.reset();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.next(), 99);
  });
});
