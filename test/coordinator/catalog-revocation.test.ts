import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useHarness } from "../helpers/coordinator-harness.js";

const stream = (id: string, url = `http://radio.test/${id}/v2`) => ({ id, url, name: id, metadata: {}, enabled: true });

// A catalog change removes streams from their owner without giving them to anyone:
// acknowledging it must not free a revocation sent after it.
describe("catalog changes and revocations in flight", () => {
  const harness = useHarness();

  test("acking a URL restart does not free a later revocation of the same stream", async () => {
    const { h } = harness;
    await h.addStreams(2);
    await h.start();
    const x = await h.connect("x", 10);
    x.autoAck = false;
    await h.writeCatalog(["s-000", "s-001"].map((id) => stream(id)));
    const restart = x.assignments().at(-1)!;
    assert.deepEqual(restart.remove.sort(), ["s-000", "s-001"], "restarted in place: remove and add in one message");
    const y = await h.connect("y", 10);
    const revocation = x.assignments().at(-1)!;
    assert.ok(revocation.seq > restart.seq && revocation.remove.length === 1, JSON.stringify(revocation));
    // x has applied the restart but not yet the revocation.
    x.ack(restart.seq);
    await h.settle();
    await h.coordinator.rebalanceNow();
    const moved = revocation.remove[0]!;
    assert.ok(!y.owned().has(moved), `${moved} granted to y before x acknowledged seq ${revocation.seq}`);
    assert.equal(h.store.assignments.get(moved)?.instanceId, "x");
    x.ack(revocation.seq);
    await h.settle();
    assert.ok(y.owned().has(moved), "and once x acknowledged it, y gets it");
  });

  test("acking a disable does not free a later revocation either", async () => {
    const { h } = harness;
    await h.addStreams(3);
    await h.start();
    const x = await h.connect("x", 10);
    x.autoAck = false;
    await h.writeCatalog([{ ...stream("s-002", "http://radio.test/s-002"), enabled: false }]);
    const disable = x.assignments().at(-1)!;
    assert.deepEqual(disable.remove, ["s-002"]);
    const y = await h.connect("y", 10);
    const revocation = x.assignments().at(-1)!;
    assert.equal(revocation.remove.length, 1);
    x.ack(disable.seq);
    await h.settle();
    await h.coordinator.rebalanceNow();
    assert.equal(y.owned().size, 0, "nothing moves before the revocation is acknowledged");
  });
});
