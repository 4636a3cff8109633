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

// With the fleet's size known: arrivals and departures in any order; while the window is open it
// holds back exactly the part of the backlog the absent instances will take, never past the maximum,
// and it ends as soon as all expected instances are present.
test("the settle window with an expected fleet: each present instance's share is released, the rest waits at most the maximum", () => {
  fc.assert(
    fc.property(
      fc.record({ settleMs: fc.integer({ min: 1, max: 3_000 }), maxMs: fc.integer({ min: 0, max: 10_000 }), minBacklog: fc.integer({ min: 1, max: 5 }), expectedInstances: fc.integer({ min: 1, max: 12 }) }),
      fc.array(fc.record({ gap: fc.integer({ min: 0, max: 2_000 }), change: fc.constantFrom(1, 1, 1, -1) }), { minLength: 1, maxLength: 40 }),
      fc.uniqueArray(fc.nat({ max: 200 }), { minLength: 0, maxLength: 120 }),
      (terms, steps, backlog) => {
        const settle = new PlacementSettle(terms, () => present);
        let now = 0;
        let present = 0;
        let openedAt: number | undefined;
        for (const { gap, change } of steps) {
          now += gap;
          present = Math.max(0, present + change);
          if (change > 0 && settle.arrival(now, () => backlog)) openedAt = now;
          const held = settle.heldBack(now);
          assert.ok(!held.has(999), "a stream outside the backlog is never held");
          if (held.size > 0) {
            assert.ok(openedAt !== undefined, "held only after a window opened");
            assert.ok(now - openedAt! < terms.maxMs, `held ${now - openedAt!} ms after the latest opening, at most ${terms.maxMs}`);
            assert.ok(present < terms.expectedInstances, "nothing is held once the expected fleet is present");
            const released = Math.round((backlog.length * present) / terms.expectedInstances);
            assert.equal(held.size, backlog.length - released, `${present} of ${terms.expectedInstances} present: ${released} of ${backlog.length} released`);
          }
          if (present >= terms.expectedInstances) assert.equal(held.size, 0, "the whole fleet is here");
        }
        if (openedAt !== undefined) assert.equal(settle.heldBack(openedAt + terms.maxMs).size, 0, "released by opening + maximum");
      },
    ),
    { numRuns: 300, seed: 4243 },
  );
});
