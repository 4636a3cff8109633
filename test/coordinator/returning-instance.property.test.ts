import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CoordinatorHarness, type FakeInstance } from "../helpers/coordinator-harness.js";

type Away = { kind: "join"; capacity: number } | { kind: "streams"; count: number } | { kind: "leave" } | { kind: "crash" };

const awayEvent: fc.Arbitrary<{ atFraction: number; event: Away }> = fc.record({
  atFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  event: fc.oneof(
    fc.record({ kind: fc.constant("join" as const), capacity: fc.integer({ min: 1, max: 30 }) }),
    fc.record({ kind: fc.constant("streams" as const), count: fc.integer({ min: 1, max: 15 }) }),
    fc.record({ kind: fc.constant("leave" as const) }),
    fc.record({ kind: fc.constant("crash" as const) }),
  ),
});

// An instance that leaves to return (a restart) keeps its streams, unrun, whatever the rest of
// the fleet does meanwhile (instances join, leave, crash; streams are added), and its next hello,
// holding nothing (a new process), gets every one of them back with the same epochs.
test("a returning instance: nobody else gets its streams while it is away, and its hello gets them all back", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        streams: fc.integer({ min: 1, max: 60 }),
        capacities: fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 4 }),
        returnCapacity: fc.integer({ min: 1, max: 30 }),
        returnWithinMs: fc.integer({ min: 2_000, max: 40_000 }),
        awayFraction: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        events: fc.array(awayEvent, { maxLength: 5 }),
      }),
      async ({ streams, capacities, returnCapacity, returnWithinMs, awayFraction, events }) => {
        const h = new CoordinatorHarness();
        try {
          await h.addStreams(streams);
          await h.start();
          const others: FakeInstance[] = [];
          for (const [i, capacity] of capacities.entries()) others.push(await h.connect(`o${i}`, capacity));
          const x = await h.connect("x", returnCapacity);
          await h.advance(1_000);
          const before = x.owned();
          // Nothing to keep (the others took every stream): nothing this property could show.
          fc.pre(before.size > 0);
          x.leave("restarting", returnWithinMs);
          await h.settle();

          const awayMs = Math.floor(returnWithinMs * awayFraction);
          const reserved = () => {
            for (const other of h.coordinator.view.instancesById()) {
              if (other.id === "x") continue;
              for (const streamId of h.coordinator.view.ownedBy(other.id).keys()) {
                assert.ok(!before.has(streamId), `${streamId} of x went to ${other.id} while x was away`);
              }
            }
          };
          let elapsed = 0;
          let joined = 0;
          let added = 0;
          for (const { atFraction, event } of [...events].sort((a, b) => a.atFraction - b.atFraction)) {
            const at = Math.floor(awayMs * atFraction);
            if (at > elapsed) await h.advance(at - elapsed);
            elapsed = Math.max(elapsed, at);
            const live = others.filter((o) => !o.ended);
            if (event.kind === "join") others.push(await h.connect(`j${joined++}`, event.capacity));
            else if (event.kind === "streams") await h.addStreams(event.count, `n${added++}`);
            else if (live.length > 0 && event.kind === "leave") live[0]!.leave("shutdown", 0);
            else if (live.length > 0 && event.kind === "crash") live[0]!.drop();
            await h.settle();
            reserved();
          }
          if (awayMs > elapsed) await h.advance(awayMs - elapsed);
          reserved();

          const back = await h.connect("x", returnCapacity, { held: [] });
          const first = back.assignments()[0];
          assert.ok(first?.full, "the hello is answered with a full assignment");
          const given = new Map(first.add.map((g) => [g.id, g.epoch]));
          for (const [streamId, epoch] of before) assert.equal(given.get(streamId), epoch, `${streamId} back with epoch ${epoch}`);
        } finally {
          await h.stop();
        }
      },
    ),
    { numRuns: 40, seed: 1202 },
  );
});
