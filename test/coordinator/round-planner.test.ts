import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Fleet } from "../../src/coordinator/fleet.js";
import { Instance } from "../../src/coordinator/instance.js";
import { planRound } from "../../src/coordinator/round-planner.js";
import { SessionOutbox } from "../../src/coordinator/session-outbox.js";
import type { SessionHandle } from "../../src/coordinator/types.js";

const session = { sessionId: "test", peer: "test" } as SessionHandle;
const NOW = 1_000_000;

/** A fleet in memory: instances heard from at `lastSeen`, streams given as owner per stream. */
function fleetOf(instances: Array<{ id: string; capacity: number; lastSeen?: number }>, owners: Array<string | null>): Fleet {
  const fleet = new Fleet();
  for (const i of instances) {
    const instance = Instance.register(i.id, 0, 0);
    instance.connect(new SessionOutbox(session), { instanceId: i.id, capacity: i.capacity, held: [], labels: {}, version: "" }, i.lastSeen ?? NOW, 0);
    fleet.add(instance);
  }
  owners.forEach((owner, s) => {
    const id = `st-${String(s).padStart(3, "0")}`;
    fleet.catalog.set(id, { id, url: `http://radio.test/${s}`, name: id, metadata: {}, enabled: true });
    if (owner) fleet.setOwner(id, { instanceId: owner, epoch: s + 1, revoking: false });
  });
  return fleet;
}

const grantsTo = (d: ReturnType<typeof planRound>, id: string) => d.grants.filter((g) => g.instanceId === id).length;

describe("planRound with suspect instances", () => {
  test("a suspect keeps what it runs and gets none of the orphans", () => {
    const owners = [...Array<string>(6).fill("a"), ...Array<string>(6).fill("b"), ...Array<string>(6).fill("dead")];
    const fleet = fleetOf(
      [{ id: "a", capacity: 20 }, { id: "b", capacity: 20, lastSeen: NOW - 2_000 }],
      owners,
    );
    const decision = planRound(fleet, Infinity, NOW - 1_000);
    assert.deepEqual(decision.suspects, ["b"]);
    assert.equal(grantsTo(decision, "a"), 6, "a takes every orphan");
    assert.equal(grantsTo(decision, "b"), 0);
    assert.deepEqual(decision.revocations, [], "nothing is taken from b");
    assert.equal(decision.quotas.has("b"), false);
  });

  test("heard from exactly at the cut-off is not suspect", () => {
    const fleet = fleetOf([{ id: "a", capacity: 10 }, { id: "b", capacity: 10, lastSeen: NOW - 1_000 }], [null, null]);
    const decision = planRound(fleet, Infinity, NOW - 1_000);
    assert.deepEqual(decision.suspects, []);
    assert.equal(grantsTo(decision, "b"), 1);
  });

  test("a member going quiet in the middle of a join does not make the others give up more", () => {
    // a..d held 10 each; e joined and each of a..d is giving up 2 (revocations in flight).
    const owners = ["a", "b", "c", "d"].flatMap((id) => Array<string>(10).fill(id));
    const fleet = fleetOf(
      [{ id: "a", capacity: 20 }, { id: "b", capacity: 20 }, { id: "c", capacity: 20 }, { id: "d", capacity: 20, lastSeen: NOW - 5_000 }, { id: "e", capacity: 20 }],
      owners,
    );
    for (const id of ["a", "b", "c", "d"]) {
      const revoking = [...fleet.ownedBy(id)].slice(0, 2);
      for (const streamId of revoking) fleet.markRevoking(streamId, "rebalance");
    }
    const decision = planRound(fleet, Infinity, NOW - 1_000);
    assert.deepEqual(decision.suspects, ["d"]);
    assert.deepEqual(decision.revocations, [], "shares stay 8 each: no extra revocation");
    assert.deepEqual(decision.grants, [], "streams being revoked wait for their owner's acknowledgement");
    assert.deepEqual([...decision.quotas.values()], [8, 8, 8, 8]);
  });
});
