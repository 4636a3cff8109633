import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HARNESS_OPTIONS, useHarness, type CoordinatorHarness, type FakeInstance } from "../helpers/coordinator-harness.js";

// Time moves only when the test says so.
const { leaseTtlMs: LEASE } = HARNESS_OPTIONS;

/** Streams removed from `instance` by the assignments it got after the first `skip`. */
const removedFrom = (instance: FakeInstance, skip = 0) => instance.assignments().slice(skip).flatMap((a) => a.remove);

/** Every stream in `granted` has a strictly larger epoch than it had in `before` (a fresh grant, not the old one). */
function assertLargerEpochs(granted: Map<string, number>, before: Map<string, number>): void {
  for (const [id, epoch] of granted) assert.ok(epoch > before.get(id)!, `${id}: ${epoch} > ${before.get(id)}`);
}

/**
 * The written assignments agree with what the instances were told to run: one
 * owner per stream, with the same epoch. A row being revoked still names its
 * old owner, which was told to stop it, and nobody else was told to start it.
 */
function assertStoreMatches(h: CoordinatorHarness, ...instances: FakeInstance[]): void {
  const told = new Map<string, { instanceId: string; epoch: number }>();
  for (const instance of instances) {
    for (const [streamId, epoch] of instance.owned()) {
      assert.ok(!told.has(streamId), `${streamId} told to both ${told.get(streamId)?.instanceId} and ${instance.id}`);
      told.set(streamId, { instanceId: instance.id, epoch });
    }
  }
  const active = new Map<string, { instanceId: string; epoch: number }>();
  for (const [streamId, o] of h.store.assignments) {
    if (o.revoking) assert.ok(!told.has(streamId), `${streamId} is being revoked from ${o.instanceId} but runs on ${told.get(streamId)?.instanceId}`);
    else active.set(streamId, { instanceId: o.instanceId, epoch: o.epoch });
  }
  assert.deepEqual(active, told);
}

/** A started coordinator with `count` streams, all owned by the one instance `id` connected. */
async function soleOwner(h: CoordinatorHarness, count: number, id: string, capacity: number): Promise<FakeInstance> {
  await h.addStreams(count);
  await h.start();
  const owner = await h.connect(id, capacity);
  assert.equal(owner.owned().size, count);
  return owner;
}

describe("one owner per stream and epochs, on the in-memory store", () => {
  const harness = useHarness();

  test("a move sends remove to the old owner and add to the new one only after the old one acked", async () => {
    const { h } = harness;
    const slow = await soleOwner(h, 10, "slow", 10);
    const before = slow.owned();
    slow.autoAck = false;

    const fresh = await h.connect("fresh", 10);
    const revocation = slow.assignments().find((a) => a.remove.length)!;
    assert.equal(revocation.remove.length, 5);
    assert.deepEqual(revocation.add, []);
    // Several leases: the old owner heartbeats, so it stays the owner until it acknowledges,
    // whatever rounds run meanwhile.
    await h.advance(3 * LEASE);
    await h.coordinator.rebalanceNow();
    await h.settle();
    assert.equal(fresh.owned().size, 0, "nothing may be added before the old owner acknowledged");
    assert.ok(fresh.assignments().every((a) => a.add.length === 0));
    const revoking = [...h.store.assignments].filter(([, o]) => o.revoking && o.instanceId === "slow").map(([id]) => id);
    assert.deepEqual(revoking.sort(), [...revocation.remove].sort(), "written as being revoked, still the old owner's");

    slow.ack(revocation.seq);
    await h.settle();
    assert.deepEqual([...fresh.owned().keys()].sort(), [...revocation.remove].sort(), "added without any time passing");
    assertLargerEpochs(fresh.owned(), before);
    assertStoreMatches(h, slow, fresh);
  });

  test("every grant gets a strictly larger epoch; stale holdings are dropped on reconnect", async () => {
    const { h } = harness;
    const a = await soleOwner(h, 4, "a", 10);
    const first = a.owned();
    a.leave("test");
    const b = await h.connect("b", 10);
    const granted = b.owned();
    assert.equal(granted.size, 4);
    assertLargerEpochs(granted, first);

    // "a" comes back claiming what it held before: those belong to b now.
    const again = await h.connect("a", 10, { held: a.held() });
    const full = again.assignments()[0]!;
    assert.equal(full.full, true);
    assert.deepEqual(full.add, [], "stale streams are not in the full set");
    assert.deepEqual(h.ownedCounts(), { a: 2, b: 2 });
    assertLargerEpochs(again.owned(), granted);
    assertStoreMatches(h, again, b);
  });

  test("a lone instance that leaves loses its streams; coming back is a new grant with larger epochs", async () => {
    const { h } = harness;
    const a = await soleOwner(h, 3, "a", 10);
    const before = a.owned();
    a.leave("test");
    await h.settle();
    assert.deepEqual(a.endedWith, { kind: "left" });
    assert.equal(h.store.assignments.size, 0, "the left instance's rows go although nobody can take them");
    assert.equal(h.coordinator.view.owners.size, 0);
    const again = await h.connect("a", 10);
    assert.equal(again.owned().size, 3);
    assertLargerEpochs(again.owned(), before);
  });
});

describe("balance on the in-memory store: shares, joins and smaller capacities", () => {
  const harness = useHarness();

  test("a join moves exactly the newcomer's share even when the old owners acknowledge one by one", async () => {
    const { h } = harness;
    await h.addStreams(40);
    await h.start();
    const olds: FakeInstance[] = [];
    for (const id of ["a", "b", "c", "d"]) olds.push(await h.connect(id, 20));
    assert.deepEqual(olds.map((s) => s.owned().size), [10, 10, 10, 10]);
    const seen = olds.map((s) => s.assignments().length);
    // Acknowledge by hand so each old owner's revocation lands in a round of its own.
    for (const s of olds) s.autoAck = false;
    const newcomer = await h.connect("e", 20);
    assert.ok(olds.every((s, i) => removedFrom(s, seen[i]).length > 0), "every old owner is asked for streams");
    for (const s of olds) {
      s.ackAll();
      await h.advance(150);
    }
    assert.equal(newcomer.owned().size, 8, "the newcomer holds its share of 8");
    await h.advance(300);
    for (const s of olds) s.ackAll();
    await h.advance(300);
    const revoked = olds.reduce((n, s, i) => n + removedFrom(s, seen[i]).length, 0);
    assert.equal(revoked, 8, "only the newcomer's share was revoked");
    assert.deepEqual(olds.map((s) => s.owned().size), [8, 8, 8, 8]);
    assertStoreMatches(h, ...olds, newcomer);
  });

  test("capacity-weighted shares, and streams beyond total capacity stay unassigned", async () => {
    const { h } = harness;
    await h.addStreams(30);
    await h.start();
    await h.connect("small", 10);
    await h.connect("medium", 20);
    await h.connect("large", 30);
    assert.deepEqual(h.ownedCounts(), { small: 5, medium: 10, large: 15 });
    await h.addStreams(70, "extra");
    await h.settle();
    assert.deepEqual(h.ownedCounts(), { small: 10, medium: 20, large: 30 }, "full to capacity");
    assert.equal(h.store.assignments.size, 60);
    assertStoreMatches(h, ...h.instances);
  });

  test("back within the grace with a smaller capacity, an instance is never sent more than it can run", async () => {
    const { h } = harness;
    const first = await soleOwner(h, 6, "shrinks", 10);
    first.drop();
    // Within the grace its streams stay its own; it comes back able to run two.
    const again = await h.connect("shrinks", 2, { autoAck: false, held: first.held() });
    const full = again.assignments()[0]!;
    assert.equal(full.full, true);
    assert.equal(full.add.length, 2, "the full set holds no more than the new capacity");
    assert.equal(h.coordinator.view.ownedBy("shrinks").size, 6, "the rest is released only on acknowledgement");

    const other = await h.connect("other", 10);
    await h.advance(LEASE);
    assert.equal(other.owned().size, 0, "nothing moves before the acknowledgement");
    again.ack(full.seq);
    await h.settle();
    const shed = [...first.owned().keys()].filter((id) => !full.add.some((s) => s.id === id));
    assert.deepEqual([...other.owned().keys()].sort(), shed.sort(), "the four it gave up move at once");
    assert.equal(h.store.assignments.size, 6);
    assert.equal([...h.store.assignments.values()].filter((o) => o.instanceId === "shrinks").length, 2);
    assertStoreMatches(h, again, other);
    // The same round asks it for one more: its capacity-weighted share of 6 beside a 10 is 1.
    assert.equal(h.coordinator.quotas.get("shrinks"), 1);
    assert.equal(removedFrom(again).length, 1);
    again.ackAll();
    await h.settle();
    assert.ok(again.assignments().every((a) => a.add.length <= 2), "never told to run more than two");
    assert.deepEqual(h.ownedCounts(), { shrinks: 1, other: 5 });
    assertStoreMatches(h, again, other);
  });
});

describe("rate limits on the in-memory store: live moves are limited, failover is not", () => {
  const PER_SECOND = 2;
  const BURST = 2;
  const harness = useHarness({ liveMovesPerSecond: PER_SECOND, liveMovesBurst: BURST });

  test("moves between live instances are rate-limited, failover is not", async () => {
    const { h } = harness;
    const a = await soleOwner(h, 20, "a", 20);
    const b = await h.connect("b", 20);
    assert.equal(b.owned().size, BURST, "the burst moves at once");
    await h.advance(1_200);
    assert.equal(b.owned().size, BURST + Math.floor((1_200 * PER_SECOND) / 1_000), "then one move every 500 ms");
    // Eight moves after the burst, at 2/s: b's share of 10 takes 4 s, no less (and no tick more).
    const shareAfterMs = ((10 - BURST) / PER_SECOND) * 1_000;
    await h.advance(shareAfterMs - 1_200 - 1);
    assert.equal(b.owned().size, 9, "ten moves at 2/s cannot finish in under 4 s");
    await h.advance(1);
    assert.equal(b.owned().size, 10);

    const c = await h.connect("c", 20);
    await h.advance(200);
    assert.ok(c.owned().size < BURST, "the bucket is empty: c's share is still coming");
    const orphans = 20 - b.owned().size - c.owned().size;
    a.drop();
    // Its lease (renewed by its last heartbeat) outlasts the grace: that, margin included, is when they move.
    const until = h.coordinator.view.instance("a")!.disconnectedUntil!;
    await h.advance(until - h.clock.now() - 1);
    assert.equal(h.coordinator.view.ownedBy("a").size, orphans, "a keeps them until then");
    await h.advance(100);
    assert.equal(b.owned().size + c.owned().size, 20, `a's ${orphans} streams placed at once, with the bucket empty`);
  });
});
