import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { CatalogStream } from "../../src/coordinator/types.js";
import { useHarness, type FakeInstance } from "../helpers/coordinator-harness.js";

const radio = (id: string, more: Partial<CatalogStream> = {}): CatalogStream => ({
  id,
  url: `https://radio.example/${id}.mp3`,
  name: id,
  metadata: {},
  enabled: true,
  ...more,
});

/** Assignments `instance` received after the first `from`. */
const since = (instance: FakeInstance, from: number) => instance.assignments().slice(from);

describe("what instances are told when the catalog changes, on the in-memory store", () => {
  const harness = useHarness();

  /** A started coordinator with one instance of capacity 50 and `streams` in the catalog. */
  async function solo(...streams: CatalogStream[]): Promise<FakeInstance> {
    const { h } = harness;
    await h.writeCatalog(streams);
    await h.start();
    return h.connect("solo", 50);
  }

  test("a stream added reaches an instance with its url and metadata, without any time passing", async () => {
    const { h } = harness;
    const instance = await solo();
    const sent = instance.assignments().length;
    const at = h.clock.now();
    await h.writeCatalog([radio("radio-1", { name: "One", metadata: { cidade: "Recife" } })]);
    await h.settle();
    assert.equal(h.clock.now(), at);
    const [change, ...more] = since(instance, sent);
    assert.deepEqual(more, []);
    assert.equal(change!.full, false);
    assert.deepEqual(change!.remove, []);
    const stream = change!.add.find((s) => s.id === "radio-1");
    assert.equal(stream?.url, "https://radio.example/radio-1.mp3");
    assert.equal(stream?.name, "One");
    assert.deepEqual(stream?.metadata, { cidade: "Recife" });
    assert.ok(stream!.epoch > 0);
    assert.deepEqual(h.store.assignments.get("radio-1"), { instanceId: "solo", epoch: stream!.epoch, revoking: false });
  });

  test("writing the same content again tells nobody anything", async () => {
    const { h } = harness;
    const row = radio("radio-1", { metadata: { cidade: "Recife" } });
    const instance = await solo(row);
    const epoch = instance.owned().get("radio-1");
    const sent = instance.assignments().length;
    await h.writeCatalog([{ ...row, metadata: { cidade: "Recife" } }]);
    await h.advance(1_000);
    assert.deepEqual(since(instance, sent), []);
    assert.equal(h.store.assignments.get("radio-1")?.epoch, epoch);
  });

  test("an admin write that changed no row records no catalog event and starts no round", async () => {
    const { h } = harness;
    await solo(radio("radio-1"));
    const events = h.eventKinds().length;
    const rounds = h.store.calls.writeRound;
    await h.coordinator.catalogChanged([]);
    await h.advance(1_000);
    assert.deepEqual(h.eventKinds().slice(events), []);
    assert.equal(h.store.calls.writeRound, rounds);
  });

  test("a new url, name or metadata restarts the stream on its owner with the same epoch, in one message", async () => {
    const { h } = harness;
    const instance = await solo(radio("radio-1"), radio("radio-2"));
    const epoch = instance.owned().get("radio-1")!;
    for (const changed of [
      radio("radio-1", { url: "https://radio.example/one-new.mp3" }),
      radio("radio-1", { url: "https://radio.example/one-new.mp3", name: "Renamed" }),
      radio("radio-1", { url: "https://radio.example/one-new.mp3", name: "Renamed", metadata: { estado: "PE" } }),
    ]) {
      const sent = instance.assignments().length;
      await h.writeCatalog([changed]);
      await h.settle();
      const changes = since(instance, sent);
      assert.equal(changes.length, 1, JSON.stringify(changes));
      assert.deepEqual(changes[0]!.remove, ["radio-1"]);
      assert.deepEqual(changes[0]!.add, [{ ...changed, epoch }]);
    }
    assert.equal(h.store.assignments.get("radio-1")?.epoch, epoch, "no new grant");
    assert.equal(instance.owned().size, 2, "radio-2 untouched");
  });

  test("disabling and deleting remove the stream from its owner at once, and nobody else is given it", async () => {
    const { h } = harness;
    const instance = await solo(radio("radio-1"), radio("radio-2"), radio("radio-3"));
    const other = await h.connect("other", 50);
    assert.deepEqual(h.ownedCounts(), { solo: 2, other: 1 });
    const ownerOf = (id: string) => (instance.owned().has(id) ? instance : other);
    const at = h.clock.now();

    const disabledOwner = ownerOf("radio-2");
    let sent = disabledOwner.assignments().length;
    await h.writeCatalog([radio("radio-2", { enabled: false })]);
    await h.settle();
    assert.deepEqual(since(disabledOwner, sent).map((a) => [a.add, a.remove]), [[[], ["radio-2"]]]);

    const deletedOwner = ownerOf("radio-3");
    sent = deletedOwner.assignments().length;
    await h.writeCatalog([{ id: "radio-3", deleted: true }]);
    await h.settle();
    assert.deepEqual(since(deletedOwner, sent).map((a) => [a.add, a.remove]), [[[], ["radio-3"]]]);
    assert.equal(h.clock.now(), at, "without any time passing");

    await h.advance(1_000);
    assert.ok(![...instance.owned().keys(), ...other.owned().keys()].some((id) => id === "radio-2" || id === "radio-3"), "not given to anyone");
    assert.deepEqual([...h.store.assignments.keys()], ["radio-1"]);
    const removed = h.store.eventsOf("stream.removed").map((e) => [e.streamId, e.detail?.reason]);
    assert.deepEqual(removed, [["radio-2", "disabled"], ["radio-3", "deleted"]]);
  });
});
