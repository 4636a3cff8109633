import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Fleet } from "../../src/coordinator/fleet.js";

const STREAMS = ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"];
const INSTANCES = ["a", "b", "c"];

type Op =
  | { kind: "catalogSet"; stream: string; enabled: boolean }
  | { kind: "catalogDelete"; stream: string }
  | { kind: "catalogClear" }
  | { kind: "setOwner"; stream: string; instance: string; revoking: boolean }
  | { kind: "clearOwner"; stream: string }
  | { kind: "markRevoking"; stream: string };

const stream = fc.constantFrom(...STREAMS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("catalogSet" as const), stream, enabled: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("catalogDelete" as const), stream }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("catalogClear" as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("setOwner" as const), stream, instance: fc.constantFrom(...INSTANCES), revoking: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("clearOwner" as const), stream }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("markRevoking" as const), stream }) },
);

function apply(fleet: Fleet, op: Op): void {
  switch (op.kind) {
    case "catalogSet":
      fleet.catalog.set(op.stream, { id: op.stream, url: `http://radio.test/${op.stream}`, name: op.stream, metadata: {}, enabled: op.enabled });
      break;
    case "catalogDelete":
      fleet.catalog.delete(op.stream);
      break;
    case "catalogClear":
      fleet.catalog.clear();
      break;
    case "setOwner":
      fleet.setOwner(op.stream, { instanceId: op.instance, epoch: 1, revoking: op.revoking });
      break;
    case "clearOwner":
      fleet.clearOwner(op.stream);
      break;
    case "markRevoking":
      fleet.markRevoking(op.stream, "rebalance");
      break;
  }
}

/** The index says exactly what the Maps say, and holds no slot nothing refers to. */
function assertMirrors(fleet: Fleet): void {
  const { index } = fleet;
  const referenced = new Set([...fleet.catalog.keys(), ...fleet.owners.keys()]);
  let used = 0;
  for (let slot = 0; slot < index.streamSlotEnd; slot++) {
    const id = index.streamIds[slot];
    if (id === undefined) {
      assert.equal(index.enabled[slot], 0, `free slot ${slot} enabled`);
      assert.equal(index.owner[slot], -1, `free slot ${slot} owned`);
      assert.equal(index.revoking[slot], 0, `free slot ${slot} revoking`);
      continue;
    }
    used++;
    assert.ok(referenced.has(id), `slot ${slot} kept for ${id}, which nothing refers to`);
    assert.equal(index.streamSlot(id), slot);
    assert.equal(index.enabled[slot], fleet.catalog.get(id)?.enabled ? 1 : 0, `enabled of ${id}`);
    const ownership = fleet.owners.get(id);
    const owner = index.owner[slot]!;
    assert.equal(owner >= 0 ? index.instanceIds[owner] : undefined, ownership?.instanceId, `owner of ${id}`);
    assert.equal(index.revoking[slot], ownership?.revoking ? 1 : 0, `revoking of ${id}`);
  }
  assert.equal(used, referenced.size);
}

describe("the fleet's index", () => {
  test("mirrors the catalog and the owners through any sequence of changes, growing on the way", () => {
    fc.assert(
      // Starting with 1 to 4 slots, eight streams make the arrays grow several times.
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(opArb, { maxLength: 60 }), (initialSlots, ops) => {
        const fleet = new Fleet(initialSlots);
        for (const op of ops) {
          apply(fleet, op);
          assertMirrors(fleet);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  test("keeps owners and revocations when it grows past its default size, and reuses freed slots", () => {
    const fleet = new Fleet();
    const put = (id: string) => fleet.catalog.set(id, { id, url: "", name: "", metadata: {}, enabled: true });
    for (let i = 0; i < 3_000; i++) {
      put(`x${i}`);
      fleet.setOwner(`x${i}`, { instanceId: INSTANCES[i % 3]!, epoch: i + 1, revoking: false });
      if (i % 5 === 0) fleet.markRevoking(`x${i}`, "rebalance");
    }
    assertMirrors(fleet);
    for (let i = 0; i < 3_000; i += 2) {
      fleet.catalog.delete(`x${i}`);
      fleet.clearOwner(`x${i}`);
    }
    for (let i = 0; i < 1_500; i++) put(`y${i}`);
    assert.equal(fleet.index.streamSlotEnd, 3_000, "the deleted streams' slots were reused");
    assertMirrors(fleet);
  });
});
