import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { planByIds, type InstanceSpec, type PlanByIdsInput } from "../../src/scheduler/plan-by-ids.js";

const up = (id: string, capacity: number): InstanceSpec => ({ id, capacity, eligible: true, live: true });

describe("planByIds", () => {
  it("assigns by id and reports moves with from and to", () => {
    const r = planByIds({
      instances: [up("b", 2), up("a", 2)],
      streams: ["s3", "s1", "s2"],
      owners: new Map([["s1", "a"], ["s2", "a"], ["s3", "a"]]),
    });
    assert.deepEqual([...r.target], [["s1", "a"], ["s2", "a"], ["s3", "b"]]);
    assert.deepEqual(r.moves, [{ streamId: "s3", from: "a", to: "b" }]);
    assert.deepEqual([...r.quota], [["a", 2], ["b", 1]]);
  });

  it("treats owners missing from the instance list as dead", () => {
    const r = planByIds({
      instances: [up("a", 1)],
      streams: ["s1", "s2"],
      owners: new Map([["s1", "gone"], ["s2", "gone"]]),
    });
    assert.deepEqual(r.moves, [
      { streamId: "s1", from: "gone", to: "a" },
      { streamId: "s2", from: "gone", to: null },
    ]);
    assert.equal(r.quota.has("gone"), false);
  });

  it("honours maxLiveMoves and draining", () => {
    const r = planByIds({
      instances: [{ id: "old", capacity: 5, eligible: false, live: true }, up("new", 5)],
      streams: ["x", "y"],
      owners: new Map([["x", "old"], ["y", "old"]]),
      maxLiveMoves: 1,
    });
    assert.deepEqual(r.moves, [{ streamId: "y", from: "old", to: "new" }]);
    assert.equal(r.stats.deferred, 1);
  });

  it("rejects duplicate ids and bad capacities", () => {
    const owners = new Map<string, string>();
    assert.throws(() => planByIds({ instances: [up("a", 1), up("a", 1)], streams: [], owners }), RangeError);
    assert.throws(() => planByIds({ instances: [up("a", 1)], streams: ["s", "s"], owners }), RangeError);
    assert.throws(() => planByIds({ instances: [up("a", -1)], streams: [], owners }), RangeError);
    assert.throws(() => planByIds({ instances: [up("a", 1.5)], streams: [], owners }), RangeError);
  });

  it("does not depend on the order of instances, streams or owners", () => {
    const inputArb = fc
      .record({
        instances: fc.uniqueArray(
          fc.record({
            id: fc.string({ maxLength: 3 }),
            capacity: fc.integer({ min: 0, max: 6 }),
            eligible: fc.boolean(),
            live: fc.boolean(),
          }),
          { selector: (x) => x.id, maxLength: 6 },
        ),
        streams: fc.uniqueArray(fc.string({ maxLength: 4 }), { maxLength: 25 }),
        maxLiveMoves: fc.oneof(fc.constant(Infinity), fc.nat(5)),
      })
      .chain((base) =>
        fc
          .array(fc.option(fc.oneof(fc.constantFrom("ghost", ...base.instances.map((i) => i.id))), { nil: undefined }), {
            minLength: base.streams.length,
            maxLength: base.streams.length,
          })
          .map((who): PlanByIdsInput => {
            const owners = new Map<string, string>();
            base.streams.forEach((s, k) => {
              const id = who[k];
              if (id !== undefined) owners.set(s, id);
            });
            return { ...base, owners };
          }),
      );
    fc.assert(
      fc.property(inputArb, fc.func(fc.integer()), (input, shuffleKey) => {
        const byKey = <T>(xs: readonly T[]) =>
          xs.map((x, k) => [shuffleKey(k), x] as const).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
        const shuffled: PlanByIdsInput = {
          ...input,
          instances: byKey(input.instances),
          streams: byKey(input.streams),
          owners: new Map(byKey([...input.owners])),
        };
        const a = planByIds(input);
        const b = planByIds(shuffled);
        assert.deepEqual([...a.target], [...b.target]);
        assert.deepEqual(a.moves, b.moves);
        assert.deepEqual([...a.quota], [...b.quota]);
        // Each move agrees with the target map and the previous owner.
        for (const m of a.moves) {
          assert.equal(a.target.get(m.streamId), m.to);
          assert.equal(input.owners.get(m.streamId) ?? null, m.from);
        }
      }),
      { numRuns: 500 },
    );
  });
});
