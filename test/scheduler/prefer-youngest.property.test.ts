import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { plan } from "../../src/scheduler/plan.js";
import { preferYoungest } from "../../src/scheduler/prefer-youngest.js";

const fleet = fc
  .record({ instances: fc.integer({ min: 1, max: 6 }), streams: fc.integer({ min: 0, max: 60 }) })
  .chain(({ instances, streams }) =>
    fc.record({
      capacity: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: instances, maxLength: instances }),
      eligible: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: instances, maxLength: instances }),
      owner: fc.array(fc.integer({ min: -1, max: instances - 1 }), { minLength: streams, maxLength: streams }),
      epoch: fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { minLength: streams, maxLength: streams }),
      maxLiveMoves: fc.constantFrom(0, 3, Infinity),
    }),
  );

test("preferring the youngest changes which streams an owner gives up, never how many, and gives up the youngest", () => {
  fc.assert(
    fc.property(fleet, (f) => {
      const owner = Int32Array.from(f.owner);
      const result = plan({ capacity: Uint32Array.from(f.capacity), eligible: Uint8Array.from(f.eligible), live: new Uint8Array(f.capacity.length).fill(1), owner, maxLiveMoves: f.maxLiveMoves });
      const before = Int32Array.from(result.target);
      const target = Int32Array.from(result.target);
      const changed = preferYoungest(owner, target, (s) => f.epoch[s]!, result.changed);
      const histogram = (t: Int32Array) => [...t].reduce((h, i) => h.set(i, (h.get(i) ?? 0) + 1), new Map<number, number>());
      assert.deepEqual(histogram(target), histogram(before), "every instance's count is unchanged");
      assert.deepEqual([...changed], [...target.keys()].filter((s) => target[s] !== owner[s]), "changed lists exactly the streams off their owner");
      for (let s = 0; s < owner.length; s++) {
        // Unowned streams and streams revoked to nobody are untouched.
        if (owner[s] === -1 || before[s] === -1) assert.equal(target[s], before[s]);
      }
      for (let o = 0; o < f.capacity.length; o++) {
        const mine = [...owner.keys()].filter((s) => owner[s] === o && target[s] !== -1);
        const moved = mine.filter((s) => target[s] !== o);
        const kept = mine.filter((s) => target[s] === o);
        assert.equal(moved.length, mine.filter((s) => before[s] !== o).length, "as many given up as the plan said");
        if (moved.length && kept.length) assert.ok(Math.min(...moved.map((s) => f.epoch[s]!)) > Math.max(...kept.map((s) => f.epoch[s]!)), "the youngest are given up");
      }
    }),
    { numRuns: 400, seed: 5151 },
  );
});
