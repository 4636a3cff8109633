import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";
import { takeoverWaitMs } from "../../src/leadership/lease-timings.js";
import { CoordinatorHarness } from "../helpers/coordinator-harness.js";

describe("a coordinator acts only while its process leads", () => {
  test("no heartbeat is acknowledged and no hello welcomed once it may not act", async () => {
    const h = new CoordinatorHarness();
    const [w1] = await h.startWith(4, "w1");
    assert.equal(w1.heartbeat(), true);
    h.acting = false;
    assert.equal(w1.heartbeat(), false, "a heartbeat renews nothing");
    const w2 = await h.connect("w2");
    assert.deepEqual(w2.endedWith, { kind: "not-leader", leader: "" });
    assert.ok(w2.sent.some((m) => m.kind === "goAway"));
    assert.ok(!w2.sent.some((m) => m.kind === "welcome" || m.kind === "assignment"), "no welcome and no full set");
  });

  test("a replica that may not act expires nobody, however long it was paused", async () => {
    const h = new CoordinatorHarness();
    const [w1] = await h.startWith(4, "w1");
    h.acting = false;
    // As a process resumed after a pause sees it: every lease ran out long ago.
    await h.advance(h.options.leaseTtlMs * 5);
    assert.ok(!h.eventKinds().some((k) => k === "instance.expired" || k === "instance.dead"), h.eventKinds().join(", "));
    assert.equal(w1.endedWith, undefined, "its session is not ended as expired");
    assert.equal(w1.owned().size, 4);
  });

  test("stepping down ends every session with go_away, promising no lease", async () => {
    const h = new CoordinatorHarness();
    const [w1, w2] = await h.startWith(4, "w1", "w2");
    h.coordinator.stepDown("b.test:50051");
    for (const w of [w1, w2]) {
      assert.deepEqual(w.endedWith, { kind: "not-leader", leader: "b.test:50051" });
      assert.ok(w.sent.some((m) => m.kind === "goAway" && m.reason === "leadership lost" && m.leaseExtensionMs === 0));
    }
  });

  test("a new leader keeps an owner's streams for the old leader's lease too before moving them", async () => {
    const h = new CoordinatorHarness();
    const [w1] = await h.startWith(6, "w1");
    assert.equal(w1.owned().size, 6);
    const takeover = takeoverWaitMs(2_000);
    await h.takeOver(takeover);
    // w1 never reconnects; w2 joins the new leader.
    const w2 = await h.connect("w2");
    const lease = h.options.leaseTtlMs + leaseMarginMs(h.options.leaseTtlMs);
    // Past one lease (all a plain restart waits), nothing has moved yet.
    await h.advance(lease + 500);
    assert.equal(w2.owned().size, 0, "the old leader may still have been renewing w1's lease");
    await h.advance(takeover);
    assert.equal(w2.owned().size, 6, "once every lease the old leader could have given is over, the streams move");
  });
});
