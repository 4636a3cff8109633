import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FakeInstance, useHarness, type CoordinatorHarness } from "../helpers/coordinator-harness.js";

const GRACE = 1_000;
const LEASE = 3_000;

/**
 * x and y share four streams; x falls silent, its connection breaks as its lease is
 * ending, and its grace runs out while the round giving its streams to y is held in the store.
 */
async function raceSetup(h: CoordinatorHarness) {
  await h.addStreams(4);
  await h.start();
  const x = await h.connect("x", 10, { beatEveryMs: null });
  const y = await h.connect("y", 10);
  assert.deepEqual(h.ownedCounts(), { x: 2, y: 2 });
  const xStreams = x.owned();
  await h.advance(LEASE - GRACE);
  x.drop();
  const open = h.store.holdWrites();
  // Past the grace, and past its lease and margin (109 ms): x is declared dead on this tick.
  h.clock.runFor(GRACE + 200);
  // Let the round start and reach the store, where it waits.
  for (let i = 0; i < 20 && h.store.held.writeRound === 0; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(h.store.held.writeRound, 1, "the round giving x's streams away is waiting in the store");
  // x comes back meanwhile, holding what it ran (not settled: the round is still held).
  const back = new FakeInstance(h, "x");
  h.instances.push(back);
  back.hello(10, { held: [...xStreams].map(([streamId, epoch]) => ({ streamId, epoch })) });
  back.beat(h.options.heartbeatIntervalMs);
  return { x, y, back, xStreams, open };
}

/** The most streams `instance` was ever told to run at once. */
function mostAtOnce(instance: FakeInstance): number {
  const running = new Set<string>();
  let most = 0;
  for (const a of instance.assignments()) {
    if (a.full) running.clear();
    for (const id of a.remove) running.delete(id);
    for (const s of a.add) running.add(s.id);
    most = Math.max(most, running.size);
  }
  return most;
}

describe("an instance that comes back while its streams are being given away (in memory)", () => {
  const harness = useHarness({ reconnectGraceMs: GRACE });

  test("is not told to run them, so they never run twice", async () => {
    const { h } = harness;
    const { y, back, xStreams, open } = await raceSetup(h);
    const full = back.assignments()[0]!;
    assert.equal(full.full, true);
    assert.deepEqual(full.add.filter((s) => xStreams.has(s.id)), [], "streams the held round hands to y are not in x's full set");
    open();
    await h.settle();
    // The held round landed: y was given them (the next round may give them back to x at once:
    // they are y's youngest, so the first it gives up when x takes its share again).
    assert.ok([...xStreams.keys()].every((id) => y.assignments().some((a) => a.add.some((g) => g.id === id))), "the round landed: y was given them");
    for (const id of back.owned().keys()) assert.ok(!y.owned().has(id), `${id} runs on both`);
    await h.advance(2_000);
    assert.deepEqual(h.ownedCounts(), { x: 2, y: 2 }, "balanced again afterwards");
    for (const id of back.owned().keys()) assert.ok(!y.owned().has(id), `${id} runs on both`);
  });

  test("gets them after all when that round fails, and they never run twice", async () => {
    const { h } = harness;
    const { y, back, xStreams, open } = await raceSetup(h);
    assert.deepEqual(back.assignments()[0]!.add.filter((s) => xStreams.has(s.id)), []);
    h.store.fail.writeRound = 1;
    open();
    await h.settle();
    assert.deepEqual(new Map([...back.owned()].filter(([id]) => xStreams.has(id))), xStreams, "withheld streams are sent once the round failed");
    assert.equal(y.owned().size, 2);
    await h.advance(2_000);
    assert.deepEqual(h.ownedCounts(), { x: 2, y: 2 });
    for (const id of back.owned().keys()) assert.ok(!y.owned().has(id), `${id} runs on both`);
  });

  test("back with a smaller capacity while a round grants it more, it is never sent more than it can run", async () => {
    const { h } = harness;
    await h.addStreams(2);
    await h.start();
    const x = await h.connect("x", 10);
    assert.equal(x.owned().size, 2);
    const open = h.store.holdWrites();
    // Two new streams: the round granting them to x (capacity 10) waits in the store.
    await h.writeCatalog(["n-1", "n-2"].map((id) => ({ id, url: `http://radio.test/${id}`, name: id, metadata: {}, enabled: true })));
    for (let i = 0; i < 20 && h.store.held.writeRound === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(h.store.held.writeRound, 1);
    x.drop();
    const back = new FakeInstance(h, "x");
    h.instances.push(back);
    back.hello(2, { held: x.held() });
    open();
    await h.settle();
    assert.ok(mostAtOnce(back) <= 2, `told to run ${mostAtOnce(back)} at once with capacity 2`);
    assert.equal(back.owned().size, 2);
    assert.ok(h.eventKinds((e) => e.kind === "stream.revoking").length >= 2, "the grants beyond its capacity are revoked, unstarted");
  });
});
