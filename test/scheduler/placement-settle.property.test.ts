import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PlacementSettle } from "../../src/coordinator/placement-settle.js";

// Arrivals at increasing times; the window must release its backlog by opening + maxMs,
// however the arrivals fall, and must never hold back a stream that was not in the backlog.
test("the settle window: no backlog stream waits past the maximum, and nothing outside the backlog waits", () => {
  fc.assert(
    fc.property(
      fc.record({ settleMs: fc.integer({ min: 1, max: 3_000 }), maxMs: fc.integer({ min: 0, max: 10_000 }), minBacklog: fc.integer({ min: 1, max: 5 }) }),
      fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 40 }),
      fc.uniqueArray(fc.nat({ max: 50 }), { minLength: 0, maxLength: 20 }),
      (terms, gaps, backlog) => {
        const settle = new PlacementSettle(terms);
        let now = 0;
        let openedAt: number | undefined;
        const newcomer = 999; // a stream slot never in the backlog
        for (const gap of gaps) {
          now += gap;
          if (openedAt !== undefined && settle.heldBack(now).size === 0) openedAt = undefined;
          if (settle.arrival(now, () => backlog)) openedAt = now;
          const held = settle.heldBack(now);
          assert.ok(!held.has(newcomer), "a stream outside the backlog is never held");
          if (held.size > 0) {
            assert.ok(openedAt !== undefined, "held only while a window is open");
            assert.ok(now - openedAt! < terms.maxMs, `held ${now - openedAt!} ms, at most ${terms.maxMs}`);
          }
          if (backlog.length < terms.minBacklog) assert.equal(held.size, 0, "a small backlog opens no window");
        }
        if (openedAt !== undefined) assert.equal(settle.heldBack(openedAt + terms.maxMs).size, 0, "released by opening + maximum");
      },
    ),
    { numRuns: 300, seed: 4242 },
  );
});
