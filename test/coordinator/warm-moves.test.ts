import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useHarness } from "../helpers/coordinator-harness.js";

// Warm-up 15 s (the default); heartbeat 1 s, lease 3 s (HARNESS_OPTIONS).
describe("moves of warmed-up streams are told apart (stream.revoking detail.warm, finger_warm_streams_moved_total)", () => {
  const harness = useHarness({ warmUpMs: 15_000 });

  test("a stream that ran past the warm-up is warm when taken; one granted a moment ago is not", async () => {
    const { h } = harness;
    const [a] = await h.startWith(12, "a");
    assert.equal(a.owned().size, 12);
    await h.advance(20_000);
    await h.connect("b");
    await h.advance(2_000);
    const first = h.store.eventsOf("stream.revoking").map((e) => e.detail?.warm);
    assert.ok(first.length === 6 && first.every((w) => w === true), `the six a gave b had run 20 s: ${JSON.stringify(first)}`);
    await h.connect("c");
    await h.advance(2_000);
    const fromB = h.store.eventsOf("stream.revoking").filter((e) => e.instanceId === "b").map((e) => e.detail?.warm);
    assert.ok(fromB.length > 0 && fromB.every((w) => w === false), `b gives up what it got 2 s ago, not warm: ${JSON.stringify(fromB)}`);
  });
});
