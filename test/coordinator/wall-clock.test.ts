import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useHarness } from "../helpers/coordinator-harness.js";

const HOUR = 3_600_000;

// Durations run on the monotonic clock; the wall clock only stamps what people read.
describe("a step of the wall clock (NTP after a pause, date -s)", () => {
  const harness = useHarness();

  test("an hour forward and an hour back, while 10 instances heartbeat, expires nothing and moves nothing", async () => {
    const { h } = harness;
    await h.addStreams(40);
    await h.start();
    for (let i = 0; i < 10; i++) await h.connect(`i-${i}`, 10);
    const owners = new Map(h.store.assignments);
    assert.equal(owners.size, 40);
    const rounds = h.store.rounds;
    const wallBefore = h.coordinator.wallTimeOf(h.clock.now()).getTime();

    h.clock.stepWall(HOUR);
    await h.advance(4 * h.options.leaseTtlMs);
    assert.ok(h.coordinator.wallTimeOf(h.clock.now()).getTime() - wallBefore >= HOUR, "timestamps follow the wall clock");
    h.clock.stepWall(-2 * HOUR);
    await h.advance(4 * h.options.leaseTtlMs);

    const lost = h.eventKinds((e) => ["instance.expired", "instance.dead", "instance.disconnected", "instance.suspect"].includes(e.kind));
    assert.deepEqual(lost, []);
    assert.deepEqual(new Map(h.store.assignments), owners, "same owner and epoch for every stream");
    assert.equal(h.store.rounds, rounds, "no round had anything to write");
    assert.ok(h.instances.every((i) => !i.ended));
  });

  test("neither ends a freeze early nor keeps it past its length", async () => {
    const { h } = harness;
    await h.start();
    await h.coordinator.freezeRebalancing(10_000, "deploy");
    h.clock.stepWall(HOUR);
    await h.advance(9_900);
    assert.ok(h.coordinator.freeze, "an hour forward does not end a 10 s freeze");
    h.clock.stepWall(-2 * HOUR);
    await h.advance(200);
    assert.equal(h.coordinator.freeze, undefined, "an hour back does not extend it");
  });

  test("a restart keeps the last-seen times people read, even across a step", async () => {
    const { h } = harness;
    await h.addStreams(2);
    await h.start();
    const a = await h.connect("a", 10);
    a.silence();
    await h.advance(500);
    await h.stop();
    const written = h.store.instances.get("a")!.lastSeenAt!.getTime();
    h.clock.stepWall(HOUR);
    await h.restart();
    const restored = h.coordinator.view.instance("a")!;
    assert.equal(h.coordinator.wallTimeOf(restored.lastSeen).getTime(), written, "shown as it was written");
    assert.equal(h.store.instances.get("a")!.lastSeenAt!.getTime(), written, "rewritten unchanged by the first round");
  });
});

