import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CoordinatorHarness, useHarness } from "../helpers/coordinator-harness.js";
import type { CoordinatorObserver, DatabaseOperation } from "../../src/coordinator/observer.js";

/** Grants recorded in the audit log: stream, new owner, and the detail (reason, from). */
function grants(h: CoordinatorHarness, to?: string): Array<{ streamId?: string; instanceId?: string; detail: Record<string, unknown> }> {
  return h.coordinator.events
    .recent(100_000, (e) => e.kind === "stream.assigned" && (!to || e.instanceId === to))
    .map((e) => ({ streamId: e.streamId, instanceId: e.instanceId, detail: e.detail ?? {} }));
}

describe("drain, rebalance and freeze on the in-memory store", () => {
  const harness = useHarness();

  test("drain moves an instance's streams off, each stopped before it starts elsewhere; undrain lets it take some back", async () => {
    const { h } = harness;
    await h.addStreams(12);
    await h.start();
    const a = await h.connect("a", 10);
    await h.connect("b", 10);
    await h.connect("c", 10);
    assert.deepEqual(h.ownedCounts(), { a: 4, b: 4, c: 4 });
    a.autoAck = false;
    const aStreams = [...a.owned().keys()];
    await h.coordinator.setDraining("a", true);
    assert.equal(h.coordinator.view.instance("a")?.draining, true);
    assert.deepEqual(new Set(a.assignments().at(-1)!.remove), new Set(aStreams), "a is told to stop all four");
    assert.equal(grants(h).filter((g) => aStreams.includes(g.streamId!)).length, 4, "only their first grants so far");
    a.ackAll();
    await h.settle();
    assert.deepEqual(h.ownedCounts(), { a: 0, b: 6, c: 6 });
    assert.equal(h.coordinator.quotas.get("a") ?? 0, 0);
    assert.equal(h.store.instances.get("a")?.draining, true, "the flag is written with the instance's row");

    await h.coordinator.setDraining("a", false);
    await h.settle();
    assert.deepEqual(h.ownedCounts(), { a: 4, b: 4, c: 4 });
  });

  test("a grant after a drain, a rebalance or a capacity cut says why and from whom", async () => {
    const { h } = harness;
    await h.addStreams(8);
    await h.start();
    await h.connect("a", 10);
    await h.connect("b", 10);
    assert.deepEqual(h.ownedCounts(), { a: 4, b: 4 });
    await h.coordinator.setDraining("a", true);
    await h.settle();
    const drained = grants(h, "b").slice(-4).map((g) => g.detail);
    assert.deepEqual(drained, Array(4).fill({ reason: "drain", from: "a" }));

    await h.coordinator.setDraining("a", false);
    await h.settle();
    assert.deepEqual(grants(h, "a").slice(-4).map((g) => g.detail), Array(4).fill({ reason: "rebalance", from: "b" }));

    // b comes back able to run 2: the two it must give up are granted to a as capacity moves.
    const b = await h.connect("b", 2);
    await h.settle();
    assert.equal(b.owned().size, 2);
    assert.deepEqual(grants(h, "a").slice(-2).map((g) => g.detail), Array(2).fill({ reason: "capacity", from: "b" }));
    // The written audit trail says the same.
    const written = h.store.eventsOf("stream.assigned").slice(-2).map((e) => e.detail);
    assert.deepEqual(written, Array(2).fill({ reason: "capacity", from: "b" }));
  });

  test("streams drained from the only instance and given back to it are no move", async () => {
    const { h } = harness;
    await h.addStreams(3);
    await h.start();
    await h.connect("x", 10);
    await h.coordinator.setDraining("x", true);
    await h.settle();
    assert.deepEqual(h.ownedCounts(), { x: 0 }, "nowhere to go: they wait unassigned");
    await h.coordinator.setDraining("x", false);
    await h.settle();
    assert.deepEqual(h.ownedCounts(), { x: 3 });
    assert.deepEqual(grants(h, "x").slice(-3).map((g) => g.detail), Array(3).fill({ reason: "new", from: null }));
  });

  test("a freeze stops moves between live instances but not failover; it can end by itself", async () => {
    const { h } = harness;
    await h.addStreams(8);
    await h.start();
    const a = await h.connect("a", 10);
    await h.connect("b", 10);
    const info = await h.coordinator.freezeRebalancing(null, "deploy");
    assert.equal(info.until, null);
    assert.deepEqual(h.store.freeze, { until: null, reason: "deploy" }, "written before it takes effect");

    await h.connect("c", 10);
    await h.advance(800);
    assert.deepEqual(h.ownedCounts(), { a: 4, b: 4, c: 0 }, "nothing moves to the newcomer while frozen");
    const round = await h.coordinator.rebalanceNow();
    assert.ok(round.deferred > 0, "the round reports the moves it held back");
    assert.equal(round.grants.length + round.revocations.length, 0);

    a.leave();
    await h.settle();
    assert.equal(h.ownedCounts().b! + h.ownedCounts().c!, 8, "a's streams move despite the freeze");

    await h.coordinator.freezeRebalancing(1_000, "short");
    await h.advance(900);
    assert.ok(h.coordinator.freeze, "still frozen before its end");
    await h.advance(200);
    assert.equal(h.coordinator.freeze, undefined);
    assert.equal(h.store.freeze, null);
    assert.deepEqual(h.ownedCounts(), { a: 0, b: 4, c: 4 }, "rebalanced after the freeze");
  });

  test("a freeze survives a restart, and its end is kept", async () => {
    const { h } = harness;
    await h.start();
    await h.coordinator.freezeRebalancing(5_000, "deploy");
    await h.advance(2_000);
    await h.restart();
    assert.equal(h.coordinator.freeze?.reason, "deploy");
    await h.advance(2_900);
    assert.ok(h.coordinator.freeze, "3 s were left");
    await h.advance(200);
    assert.equal(h.coordinator.freeze, undefined);
  });
});

/** Counts database errors by operation. */
class CountingObserver implements CoordinatorObserver {
  readonly errors: DatabaseOperation[] = [];
  heartbeat(): void {}
  superseded(): void {}
  round(): void {}
  databaseError(operation: DatabaseOperation): void {
    this.errors.push(operation);
  }
}

describe("the end of a freeze", () => {
  test("is written once even when ticks come while the lift is being written", async () => {
    const h = new CoordinatorHarness();
    await h.start();
    await h.coordinator.freezeRebalancing(1_000, "short");
    const open = h.store.holdWrites();
    // Ten ticks pass while the first lift waits on the store.
    h.clock.runFor(2_000);
    await new Promise((resolve) => setImmediate(resolve));
    open();
    await h.settle();
    assert.equal(h.coordinator.freeze, undefined);
    assert.deepEqual(h.eventKinds((e) => e.kind.startsWith("rebalancing.")), ["rebalancing.frozen", "rebalancing.unfrozen"]);
    assert.equal(h.store.calls.saveFreeze, 2, "one write to freeze, one to lift");
    await h.stop();
  });

  test("that fails to be written is logged and counted, keeps the freeze, and is retried", async () => {
    const observer = new CountingObserver();
    const h = new CoordinatorHarness({}, observer);
    await h.start();
    await h.coordinator.freezeRebalancing(1_000, "short");
    h.store.fail.saveFreeze = 1;
    await h.advance(1_000);
    assert.deepEqual(observer.errors, ["freeze"]);
    assert.ok(h.coordinator.freeze, "still frozen: the table still says so");
    await h.advance(100);
    assert.equal(h.coordinator.freeze, undefined, "the next tick lifted it");
    assert.equal(h.store.freeze, null);
    assert.equal(h.eventKinds((e) => e.kind === "rebalancing.unfrozen").length, 1);
    await h.stop();
  });
});
