import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useHarness } from "../helpers/coordinator-harness.js";

// Settle 1 s, at most 4 s, for a backlog of 50 or more; heartbeat 1 s, lease 3 s (HARNESS_OPTIONS).
const SETTLE = { settleMs: 1_000, maxMs: 4_000, minBacklog: 50 };

describe("the settle window for placement (cold start)", () => {
  const harness = useHarness({ placementSettle: SETTLE });

  test("instances arriving 300 ms apart: nothing is placed until they pause, then every stream once, evenly, with no move", async () => {
    const { h } = harness;
    await h.addStreams(200);
    await h.start();
    const fleet = [];
    for (const id of ["a", "b", "c", "d"]) {
      fleet.push(await h.connect(id, 100));
      assert.deepEqual(Object.values(h.ownedCounts()).reduce((n, k) => n + k, 0), 0, `nothing placed while ${id} arrives`);
      await h.advance(300);
    }
    await h.advance(SETTLE.settleMs);
    assert.deepEqual(h.ownedCounts(), { a: 50, b: 50, c: 50, d: 50 });
    await h.advance(3_000);
    assert.equal(h.eventKinds((e) => e.kind === "stream.revoking").length, 0, "no stream was taken back from anyone");
    assert.equal(h.eventKinds((e) => e.kind === "stream.assigned").length, 200, "one grant per stream");
  });

  test("a stream added meanwhile is placed at once; the backlog waits at most the maximum however arrivals go on", async () => {
    const { h } = harness;
    await h.addStreams(100);
    await h.start();
    await h.connect("first", 200);
    await h.addStreams(1, "late");
    await h.settle();
    assert.equal(h.store.assignments.get("late-000")?.instanceId, "first", "a new stream does not wait for the window");
    assert.equal(h.ownedCounts().first, 1, "but the backlog does");
    // Arrivals every 900 ms keep extending the pause, but not past 4 s from the opening.
    for (let i = 0; i < 4; i++) {
      await h.advance(900);
      await h.connect(`more-${i}`, 200);
    }
    await h.advance(600);
    const placed = Object.values(h.ownedCounts()).reduce((n, k) => n + k, 0);
    assert.equal(placed, 101, `placed by the maximum: ${JSON.stringify(h.ownedCounts())}`);
  });

  test("a stream added in the slot a deleted backlog stream freed is placed at once, not held with the backlog", async () => {
    const { h } = harness;
    await h.addStreams(100);
    await h.start();
    await h.connect("first", 200);
    await h.writeCatalog([{ id: "s-000", deleted: true }]);
    await h.addStreams(1, "late");
    await h.settle();
    assert.equal(h.store.assignments.get("late-000")?.instanceId, "first", "the newcomer does not inherit the deleted stream's wait");
    assert.equal(h.ownedCounts().first, 1, "the backlog still waits");
  });

  test("a small backlog opens no window", async () => {
    const { h } = harness;
    await h.addStreams(10);
    await h.start();
    await h.connect("a");
    assert.equal(h.ownedCounts().a, 10);
  });
});

describe("the settle window with the fleet's size known (PLACEMENT_EXPECTED_INSTANCES)", () => {
  const harness = useHarness({ placementSettle: { ...SETTLE, expectedInstances: 4 } });

  test("each arrival gets its final share at once, the window closes when the fourth arrives, and nothing ever moves", async () => {
    const { h } = harness;
    await h.addStreams(200);
    await h.start();
    const expected: Record<string, number> = {};
    for (const id of ["a", "b", "c", "d"]) {
      await h.connect(id, 100);
      expected[id] = 50;
      assert.deepEqual(h.ownedCounts(), expected, `placed the moment ${id} says hello, not after a pause`);
      await h.advance(300);
    }
    await h.advance(3_000);
    assert.equal(h.eventKinds((e) => e.kind === "stream.revoking").length, 0, "no stream was taken back from anyone");
    assert.equal(h.eventKinds((e) => e.kind === "stream.assigned").length, 200, "one grant per stream");
  });

  test("a pause does not end the window while instances are missing; the maximum does, and the late one gets its share by rebalancing", async () => {
    const { h } = harness;
    await h.addStreams(200);
    await h.start();
    for (const id of ["a", "b", "c"]) await h.connect(id, 100);
    assert.deepEqual(h.ownedCounts(), { a: 50, b: 50, c: 50 });
    await h.advance(SETTLE.settleMs + 500);
    assert.deepEqual(h.ownedCounts(), { a: 50, b: 50, c: 50 }, "a quiet second is no reason to give the missing instance's share away");
    await h.advance(SETTLE.maxMs);
    const counts = Object.values(h.ownedCounts());
    assert.equal(counts.reduce((n, k) => n + k, 0), 200, "every stream placed by the maximum");
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `spread over the three: ${JSON.stringify(h.ownedCounts())}`);
  });
});

