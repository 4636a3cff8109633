import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useHarness } from "../helpers/coordinator-harness.js";

const HEARTBEAT = 300;
const SUSPECT = 600;
const LEASE = 5_000;

describe("a connected instance that has gone quiet (suspect), on the in-memory store", () => {
  const harness = useHarness({ heartbeatIntervalMs: HEARTBEAT, suspectAfterMs: SUSPECT, leaseTtlMs: LEASE });

  test("keeps its streams but gets no orphans; heard from again, it gets its share back", async () => {
    const { h } = harness;
    await h.addStreams(18);
    await h.start();
    const a = await h.connect("a", 20, { beatEveryMs: 100 });
    const b = await h.connect("b", 20, { beatEveryMs: 100 });
    const c = await h.connect("c", 20, { beatEveryMs: 100 });
    assert.deepEqual(h.ownedCounts(), { a: 6, b: 6, c: 6 });
    const cHeld = new Map(c.owned());

    c.silence();
    await h.advance(SUSPECT + 200);
    a.leave();
    await h.settle();
    // a's six streams go to b alone: c is still connected and leased, but silent.
    assert.equal(b.owned().size, 12);
    await h.advance(200);
    assert.deepEqual(c.owned(), cHeld, "the suspect keeps exactly what it had");
    const suspect = h.coordinator.events.recent(50, (e) => e.kind === "instance.suspect");
    assert.deepEqual(suspect.map((e) => e.instanceId), ["c"]);
    assert.ok(Number(suspect[0]!.detail!.silent_ms) >= SUSPECT);
    assert.equal(h.coordinator.view.instance("c")!.isSuspect(h.coordinator.suspectCutoff()), true);
    assert.equal(h.coordinator.view.instance("b")!.isSuspect(h.coordinator.suspectCutoff()), false);
    assert.equal(h.coordinator.quotas.has("c"), false, "left out of the round's shares");

    // Its next message asks for a round, which balances the two of them again.
    c.beat(100);
    await h.advance(100);
    assert.deepEqual(h.ownedCounts(), { a: 0, b: 9, c: 9 });
    for (const [id, epoch] of cHeld) assert.equal(c.owned().get(id), epoch, `c kept ${id} throughout`);
    assert.equal(h.coordinator.view.instance("c")!.isSuspect(h.coordinator.suspectCutoff()), false);
  });

  test("a drain asked for while the instance is silent goes ahead once it is heard from", async () => {
    const { h } = harness;
    await h.addStreams(18);
    await h.start();
    const a = await h.connect("a", 20, { beatEveryMs: 100 });
    const c = await h.connect("c", 20, { beatEveryMs: 100 });
    assert.deepEqual(h.ownedCounts(), { a: 9, c: 9 });
    c.silence();
    await h.advance(SUSPECT + 200);
    await h.coordinator.setDraining("c", true);
    await h.advance(300);
    assert.equal(c.owned().size, 9, "paused while c is silent");
    // Nothing else happens in the fleet: c's own next heartbeat must bring the drain on.
    c.heartbeat();
    await h.settle();
    assert.equal(c.owned().size, 0);
    assert.equal(a.owned().size, 18);
  });

  // Short of capacity (15 slots for 22 streams) every round leaves streams unassigned:
  // that alone must not count as something the late ones missed.
  for (const capacity of [20, 5]) {
    test(`instances whose heartbeats run late do not keep rounds going (capacity ${capacity} each)`, async () => {
      const { h } = harness;
      await h.addStreams(18);
      await h.start();
      const a = await h.connect("a", capacity, { beatEveryMs: 100 });
      const c = await h.connect("c", capacity, { beatEveryMs: null });
      const d = await h.connect("d", capacity, { beatEveryMs: null });
      assert.equal(a.owned().size + c.owned().size + d.owned().size, Math.min(18, 3 * capacity));
      // Both beat every 1,500 ms, half a period apart: whenever one speaks, the other has
      // been quiet for 750 ms, past the 600 ms threshold. A round that held one out used to
      // mark it, its next heartbeat asked for a round, which held out the other, and so on.
      c.beat(1_500);
      await h.advance(750);
      d.beat(1_500);
      // Rounds with work while they are quiet: new streams.
      for (let k = 0; k < 4; k++) {
        await h.writeCatalog([{ id: `extra-${k}`, url: `http://radio.test/extra-${k}`, name: "", metadata: {}, enabled: true }]);
        await h.advance(250);
      }
      const suspects = () => h.eventKinds((e) => e.kind === "instance.suspect").length;
      await h.advance(500);
      const before = suspects();
      const rounds = h.store.rounds;
      await h.advance(3_000);
      assert.ok(suspects() - before <= 1, `${suspects() - before} instance.suspect events in 3 s of rounds with nothing to do`);
      assert.ok(h.store.rounds - rounds <= 1, `${h.store.rounds - rounds} rounds written in 3 s with nothing to do`);
    });
  }
});
