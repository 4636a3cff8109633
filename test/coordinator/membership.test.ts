import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useHarness } from "../helpers/coordinator-harness.js";
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";

// Heartbeat 1 s, lease 3 s, grace 1 s (HARNESS_OPTIONS); time moves only when the test says so.
const LEASE = 3_000;
const GRACE = 1_000;
/** What the server adds to a lease for clock rates and late client timers (109 ms here). */
const MARGIN = leaseMarginMs(LEASE);

describe("membership on the in-memory store: supersede, leases, grace and leave", () => {
  const harness = useHarness();

  test("a second connection supersedes the first, which ends saying why, and keeps the streams", async () => {
    const { h } = harness;
    await h.addStreams(10);
    await h.start();
    const first = await h.connect("a");
    assert.equal(first.owned().size, 10);
    const epochs = first.owned();

    const second = await h.connect("a");
    assert.deepEqual(first.endedWith, { kind: "superseded", by: second.peer });
    const full = second.assignments()[0]!;
    assert.equal(full.full, true);
    assert.deepEqual(new Map(full.add.map((s) => [s.id, s.epoch])), epochs, "same streams, same epochs");
    await h.advance(500);
    assert.equal(second.assignments().length, 1, "nothing reassigned");
    assert.ok([...h.store.assignments.values()].every((o) => o.instanceId === "a"));
    const kinds = h.eventKinds((e) => e.instanceId === "a");
    assert.ok(kinds.includes("instance.superseded"), kinds.join(","));
    assert.ok(!kinds.includes("instance.disconnected"), `ending the old session is not a disconnect: ${kinds.join(",")}`);
    // The old session's messages change nothing any more.
    assert.equal(first.heartbeat(), false, "a superseded session's heartbeat renews nothing");
  });

  test("a silent instance is dead once its lease has run out, and its streams move on the next tick", async () => {
    const { h } = harness;
    await h.addStreams(10);
    await h.start();
    const healthy = await h.connect("healthy");
    const silent = await h.connect("silent");
    assert.deepEqual(h.ownedCounts(), { healthy: 5, silent: 5 });
    silent.silence();
    await h.advance(LEASE + MARGIN);
    assert.equal(healthy.owned().size, 5, "nothing moves while the lease, margin included, may still be running");
    assert.equal(silent.ended, false);
    await h.advance(100);
    assert.equal(healthy.owned().size, 10);
    assert.deepEqual(silent.endedWith, { kind: "lease-expired", leaseTtlMs: LEASE });
    assert.deepEqual(h.eventKinds((e) => e.instanceId === "silent").filter((k) => k.startsWith("instance.")), ["instance.joined", "instance.expired"]);
  });

  test("a connection broken right after a heartbeat keeps its streams past the grace, until the lease is over", async () => {
    // The client may not see the break (a proxy resets only one side) and, if strict, runs its
    // streams until its lease ends: moving them at the end of the grace would run them twice.
    const { h } = harness;
    await h.addStreams(10);
    await h.start();
    const a = await h.connect("a");
    const b = await h.connect("b");
    assert.deepEqual(h.ownedCounts(), { a: 5, b: 5 });
    await h.advance(1_000); // both heartbeat: a's lease now runs until 1 s + LEASE + MARGIN
    a.drop();
    await h.advance(GRACE + 100);
    assert.equal(b.owned().size, 5, "the grace is over, the lease is not: nothing moves");
    assert.equal(h.coordinator.view.instance("a")?.state, "disconnected");
    await h.advance(LEASE + MARGIN - GRACE - 100);
    assert.equal(b.owned().size, 5, "nothing moves until the lease, margin included, is over");
    await h.advance(100);
    assert.equal(b.owned().size, 10);
    assert.equal(h.coordinator.view.instance("a")?.state, "dead");
    const kinds = h.eventKinds((e) => e.instanceId === "a" && e.kind.startsWith("instance."));
    assert.deepEqual(kinds, ["instance.joined", "instance.disconnected", "instance.dead"]);
    const disconnected = h.store.events.find((e) => e.instanceId === "a" && e.kind === "instance.disconnected");
    assert.deepEqual(disconnected?.detail, { cause: "connection lost", grace_ms: GRACE, kept_ms: LEASE + MARGIN });
  });

  test("a broken connection whose lease is nearly over still keeps its streams for the whole grace", async () => {
    const { h } = harness;
    await h.addStreams(10);
    await h.start();
    const a = await h.connect("a", 20, { beatEveryMs: null });
    const b = await h.connect("b");
    assert.deepEqual(h.ownedCounts(), { a: 5, b: 5 });
    await h.advance(LEASE - 500); // silent: its lease ends 500 ms + MARGIN from now
    a.drop();
    await h.advance(GRACE - 100);
    assert.equal(b.owned().size, 5, "its lease is over, the grace to come back is not");
    await h.advance(200);
    assert.equal(b.owned().size, 10);
  });

  test("coming back within the grace keeps everything", async () => {
    const { h } = harness;
    await h.addStreams(10);
    await h.start();
    const a = await h.connect("a");
    const b = await h.connect("b");
    const before = a.owned();
    a.drop();
    await h.advance(GRACE / 3);
    const again = await h.connect("a", 20, { held: [...before].map(([streamId, epoch]) => ({ streamId, epoch })) });
    const full = again.assignments()[0]!;
    assert.deepEqual(new Map(full.add.map((s) => [s.id, s.epoch])), before);
    await h.advance(GRACE + 300);
    assert.equal(b.owned().size, 5);
    assert.equal(again.owned().size, 5);
  });

  test("after leave the streams move at once", async () => {
    const { h } = harness;
    const [a, b] = await h.startWith(10, "a", "b");
    a.leave("maintenance");
    await h.settle();
    assert.deepEqual(a.endedWith, { kind: "left" });
    assert.equal(b.owned().size, 10, "without any time passing");
    assert.equal(h.coordinator.view.instance("a")?.state, "left");
    assert.ok(h.store.eventsOf("instance.left").some((e) => e.instanceId === "a"), "written with the round");
  });

  test("heartbeat_ack is owed only when the heartbeat renewed the lease", async () => {
    const { h } = harness;
    await h.start();
    const a = await h.connect("a");
    assert.equal(a.heartbeat(), true);
    a.drop();
    assert.equal(a.heartbeat(), false, "after the session ended");
    const back = await h.connect("a");
    assert.equal(back.heartbeat(), true);
    assert.equal(a.heartbeat(), false, "an older session of the same instance");
  });
});
