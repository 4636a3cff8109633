import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useHarness, type FakeInstance } from "../helpers/coordinator-harness.js";
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";

// Heartbeat 1 s, lease 3 s, tick 100 ms (HARNESS_OPTIONS); time moves only when the test says so.
const LEASE = 3_000;
const TICK = 100;
const MARGIN = leaseMarginMs(LEASE);

const heldOf = (owned: Map<string, number>) => [...owned].map(([streamId, epoch]) => ({ streamId, epoch }));

describe("an orchestrator restart on the in-memory store reassigns nothing by itself", () => {
  const harness = useHarness();

  /** 12 streams on a, b and c (4 each); what each owned before the restart. */
  async function threeInstancesThenRestart() {
    const { h } = harness;
    await h.addStreams(12);
    await h.start();
    const old = [await h.connect("a"), await h.connect("b"), await h.connect("c")];
    assert.deepEqual(h.ownedCounts(), { a: 4, b: 4, c: 4 });
    const held = { a: old[0]!.owned(), b: old[1]!.owned(), c: old[2]!.owned() };
    const rowsBefore = new Map(h.store.assignments);
    await h.restart();
    return { old, held, rowsBefore };
  }

  test("the old sessions are told to go away, then ended; the new coordinator keeps every assignment while nobody is back", async () => {
    const { h } = harness;
    const { old, rowsBefore } = await threeInstancesThenRestart();
    for (const s of old) {
      const last = s.sent.at(-1);
      assert.equal(last?.kind, "goAway", `${s.id}: a go_away before the end`);
      assert.deepEqual(s.endedWith, { kind: "shutdown" });
    }
    // Nobody has reconnected; the first round of the new coordinator ran and moved nothing.
    assert.deepEqual(h.store.assignments, rowsBefore);
    for (const id of ["a", "b", "c"]) assert.equal(h.coordinator.view.instance(id)?.state, "disconnected", `${id} waits for its lease`);
    assert.deepEqual(h.eventKinds((e) => e.kind.startsWith("stream.")), []);
  });

  test("instances that come back keep their streams and epochs; one that stays away loses them when its lease ends", async () => {
    const { h } = harness;
    const { held, rowsBefore } = await threeInstancesThenRestart();
    const restartedAt = h.clock.now();
    const a = await h.connect("a", 20, { held: heldOf(held.a) });
    const b = await h.connect("b", 20, { held: heldOf(held.b) });
    const fullSet = (s: FakeInstance) => {
      const first = s.assignments()[0]!;
      assert.equal(first.full, true);
      return new Map(first.add.map((g) => [g.id, g.epoch]));
    };
    assert.deepEqual(fullSet(a), held.a);
    assert.deepEqual(fullSet(b), held.b);

    // c stays away: nothing moves while its lease, counted from the restart, may still be running.
    await h.advance(LEASE + MARGIN);
    assert.equal(a.assignments().length + b.assignments().length, 2, "only the two full sets, zero moves");
    assert.deepEqual(h.store.assignments, rowsBefore);
    assert.deepEqual(h.eventKinds((e) => e.kind === "stream.assigned"), []);
    assert.equal(h.coordinator.view.instance("c")?.state, "disconnected");

    // On the first tick after its lease and margin, c's four streams are split between a and b, each with a larger epoch.
    await h.advance(TICK);
    assert.equal(h.clock.now() - restartedAt, LEASE + MARGIN + TICK);
    assert.equal(h.coordinator.view.instance("c")?.state, "dead");
    assert.deepEqual(h.ownedCounts(), { a: 6, b: 6, c: 0 });
    assert.equal(a.owned().size + b.owned().size, 12);
    for (const [id, epoch] of held.c) {
      const now = a.owned().get(id) ?? b.owned().get(id);
      assert.ok(now !== undefined && now > epoch, `${id} regranted with a larger epoch`);
      assert.equal(h.store.assignments.get(id)?.epoch, now);
    }
    for (const [id, epoch] of [...held.a, ...held.b]) assert.equal(h.store.assignments.get(id)?.epoch, epoch, `${id} kept its epoch`);
    const expired = h.store.eventsOf("instance.expired").filter((e) => e.instanceId === "c");
    assert.deepEqual(expired.map((e) => e.detail?.after), ["startup"]);
  });

  test("an instance that comes back after its lease gets an empty full set, then new grants with larger epochs", async () => {
    const { h } = harness;
    const { held } = await threeInstancesThenRestart();
    const a = await h.connect("a", 20, { held: heldOf(held.a) });
    await h.advance(LEASE + MARGIN + TICK);
    assert.equal(a.owned().size, 12, "b and c stayed away");
    const late = await h.connect("c", 20, { held: heldOf(held.c) });
    const full = late.assignments()[0]!;
    // The full set replaces what it holds: it must stop everything it held.
    assert.equal(full.full, true);
    assert.deepEqual(full.add, []);
    assert.deepEqual(h.ownedCounts(), { a: 6, b: 0, c: 6 }, "then it gets its share, moved off a");
    const before = Math.max(...[...held.a.values(), ...held.b.values(), ...held.c.values()]);
    for (const epoch of late.owned().values()) assert.ok(epoch > before);
  });
});
