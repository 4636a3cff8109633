import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useHarness } from "../helpers/coordinator-harness.js";

// Heartbeat 1 s, lease 3 s, grace 1 s (HARNESS_OPTIONS); time moves only when the test says so.
describe("leaving to return (a restart): the streams wait, unrun, for the instance", () => {
  const harness = useHarness();

  test("back within the time it gave: the same streams, same epochs, nothing moved", async () => {
    const { h } = harness;
    const [a, b] = await h.startWith(10, "a", "b");
    const before = a.owned();
    a.leave("restarting", 20_000);
    await h.settle();
    assert.deepEqual(a.endedWith, { kind: "left" });
    assert.equal(h.coordinator.view.instance("a")?.state, "disconnected");
    await h.advance(15_000);
    assert.equal(b.owned().size, 5, "nothing moved to b during the restart, far past lease and grace");
    const back = await h.connect("a", 20, { held: [] });
    assert.deepEqual(back.owned(), before, "its full set gives everything back, epochs unchanged");
    await h.advance(2_000);
    assert.equal(b.owned().size, 5);
    const left = h.store.eventsOf("instance.left").find((e) => e.instanceId === "a");
    assert.equal(left?.detail?.return_within_ms, 20_000);
  });

  test("not back in time: its streams move as a dead instance's, and only then", async () => {
    const { h } = harness;
    const [a, b] = await h.startWith(10, "a", "b");
    a.leave("restarting", 5_000);
    await h.settle();
    await h.advance(4_900);
    assert.equal(b.owned().size, 5, "still waiting for a");
    await h.advance(300);
    assert.equal(b.owned().size, 10, "the return window is over");
    assert.equal(h.coordinator.view.instance("a")?.state, "dead");
    assert.equal(h.store.eventsOf("instance.dead").find((e) => e.instanceId === "a")?.detail?.after, "return window");
  });

  test("an orchestrator restart while it is away keeps the return window: the new process waits for it too, then moves them", async () => {
    const { h } = harness;
    const [a] = await h.startWith(10, "a", "b");
    const before = a.owned();
    a.leave("restarting", 20_000);
    await h.settle();
    assert.ok(h.store.instances.get("a")?.returnBy, "the window is written with the instance");
    await h.advance(2_000);
    await h.restart();
    const b = await h.connect("b", 20, { held: [] });
    // Far past the restarted process's own lease (3 s) and grace: a would have lost them here.
    await h.advance(12_000);
    assert.equal(b.owned().size, 5, "nothing of a's moved to b across the restart");
    const back = await h.connect("a", 20, { held: [] });
    assert.deepEqual(back.owned(), before, "back in time: its streams, same epochs");
    assert.equal(h.store.instances.get("a")?.returnBy, null, "the promise ends with the hello");
  });

  test("across a restart with the wall clock stepped back an hour, the window is still at most MAX_RETURN_WITHIN_MS from the restart", async () => {
    const { h } = harness;
    const [a] = await h.startWith(10, "a", "b");
    a.leave("restarting", 10_000);
    await h.settle();
    h.clock.stepWall(-3_600_000);
    await h.restart();
    const b = await h.connect("b", 20, { held: [] });
    // The default MAX_RETURN_WITHIN_MS is 120 s; the written window now reads as an hour and ten seconds away.
    await h.advance(115_000);
    assert.equal(b.owned().size, 5, "still kept for a: the stepped window, capped, lasts 120 s from the restart");
    await h.advance(6_000);
    assert.equal(b.owned().size, 10, "moved once the longest window a leave may ask for is over");
  });

  test("across a restart, a window that runs out still moves its streams, once it is over", async () => {
    const { h } = harness;
    const [a] = await h.startWith(10, "a", "b");
    a.leave("restarting", 10_000);
    await h.settle();
    await h.advance(1_000);
    await h.restart();
    const b = await h.connect("b", 20, { held: [] });
    await h.advance(8_500);
    assert.equal(b.owned().size, 5, "still a's until 10 s after it left");
    await h.advance(1_000);
    assert.equal(b.owned().size, 10, "the return window is over");
    assert.equal(h.store.eventsOf("instance.dead").find((e) => e.instanceId === "a")?.detail?.after, "return window");
  });
});

describe("leaving to return, capped by MAX_RETURN_WITHIN_MS (2 s here)", () => {
  const harness = useHarness({ maxReturnWithinMs: 2_000 });

  test("the wait is capped by the server's maximum; zero is a plain leave", async () => {
    const { h } = harness;
    const [a, b] = await h.startWith(10, "a", "b");
    a.leave("restarting", 3_600_000);
    await h.settle();
    assert.equal(h.store.eventsOf("instance.left").find((e) => e.instanceId === "a")?.detail?.return_within_ms, 2_000);
    await h.advance(2_100);
    assert.equal(b.owned().size, 10, "moved once the server's maximum was over");
    const c = await h.connect("c");
    c.leave("shutdown", 0);
    await h.settle();
    assert.equal(h.coordinator.view.instance("c")?.state, "left");
  });
});
