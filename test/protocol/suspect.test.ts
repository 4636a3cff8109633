import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useRawFleet } from "../helpers/raw-fleet.js";
import { sleep, waitUntil } from "../helpers/wait.js";

const HEARTBEAT = 300;
const SUSPECT = 600;
const LEASE = 5_000;

describe("a connected instance that has gone quiet (suspect)", () => {
  const fleet = useRawFleet({ HEARTBEAT_INTERVAL_MS: String(HEARTBEAT), SUSPECT_AFTER_MS: String(SUSPECT), LEASE_TTL_MS: String(LEASE) }, 18);
  const open = fleet.open;

  test("keeps its streams but gets no orphans; heard from again, it gets its share back", async () => {
    const a = open("a");
    const b = open("b");
    const c = open("c");
    a.heartbeatEvery(100);
    b.heartbeatEvery(100);
    const quiet = c.heartbeatEvery(100);
    await waitUntil(() => a.owned().size === 6 && b.owned().size === 6 && c.owned().size === 6, 3_000, "6/6/6");
    const cHeld = new Map(c.owned());

    quiet();
    await sleep(SUSPECT + 200);
    a.send({ $case: "leave", value: { reason: "test" } });
    // a's six streams go to b alone: c is still connected and leased, but silent.
    await waitUntil(() => b.owned().size === 12, 3_000, "b to take all of a's streams");
    await sleep(200);
    assert.deepEqual(c.owned(), cHeld, "the suspect keeps exactly what it had");
    const suspect = fleet.orchestrator.app.coordinator.events.recent(50, (e) => e.kind === "instance.suspect");
    assert.deepEqual(suspect.map((e) => e.instanceId), ["c"]);
    assert.ok(Number(suspect[0]!.detail!.silent_ms) >= SUSPECT);
    assert.equal((await fleet.admin.getInstance("c")).instance?.suspect, true);
    assert.equal((await fleet.admin.getInstance("b")).instance?.suspect, false);
    const listed = (await (await fetch(`${fleet.orchestrator.httpBase}/instances`)).json()) as { instances: Array<{ server_id: string; suspect: boolean }> };
    assert.deepEqual(listed.instances.filter((i) => i.suspect).map((i) => i.server_id), ["c"]);
    assert.match(await (await fetch(`${fleet.orchestrator.httpBase}/metrics`)).text(), /^finger_instances_suspect 1$/m);

    // Its next message asks for a round, which balances the two of them again.
    c.heartbeatEvery(100);
    await waitUntil(() => b.owned().size === 9 && c.owned().size === 9, 3_000, "9/9 once c is heard from");
    for (const [id, epoch] of cHeld) assert.equal(c.owned().get(id), epoch, `c kept ${id} throughout`);
    assert.equal((await fleet.admin.getInstance("c")).instance?.suspect, false);
  });

  test("a drain asked for while the instance is silent goes ahead once it is heard from", async () => {
    const a = open("a");
    const c = open("c");
    a.heartbeatEvery(100);
    const quiet = c.heartbeatEvery(100);
    await waitUntil(() => a.owned().size === 9 && c.owned().size === 9, 3_000, "9/9");
    quiet();
    await sleep(SUSPECT + 200);
    await fleet.admin.drain("c");
    await sleep(300);
    assert.equal(c.owned().size, 9, "paused while c is silent");
    // Nothing else happens in the fleet: c's own next heartbeat must bring the drain on.
    c.heartbeatEvery(100);
    await waitUntil(() => c.owned().size === 0 && a.owned().size === 18, 3_000, "c drained onto a");
  });

  // Short of capacity (15 slots for 22 streams) every round leaves streams unassigned:
  // that alone must not count as something the late ones missed.
  for (const capacity of [20, 5]) {
    test(`instances whose heartbeats run late do not keep rounds going (capacity ${capacity} each)`, async () => {
      const a = open("a", capacity);
      a.heartbeatEvery(100);
      const late = [open("c", capacity), open("d", capacity)];
      const placed = Math.min(18, 3 * capacity);
      await waitUntil(() => a.owned().size + late.reduce((n, s) => n + s.owned().size, 0) === placed, 3_000, "all placed");
      // Both beat every 1,500 ms, half a period apart: whenever one speaks, the other has
      // been quiet for 750 ms, past the 600 ms threshold. A round that held one out used to
      // mark it, its next heartbeat asked for a round, which held out the other, and so on.
      late[0]!.heartbeatEvery(1_500);
      await sleep(750);
      late[1]!.heartbeatEvery(1_500);
      // Rounds with work while they are quiet: new streams.
      for (let k = 0; k < 4; k++) {
        await fleet.admin.upsert([{ id: `extra-${k}` }]);
        await sleep(250);
      }
      const suspects = () => fleet.orchestrator.app.coordinator.events.recent(1_000, (e) => e.kind === "instance.suspect").length;
      await sleep(500);
      const before = suspects();
      await sleep(3_000);
      assert.ok(suspects() - before <= 1, `${suspects() - before} instance.suspect events in 3 s of rounds with nothing to do`);
    });
  }
});
