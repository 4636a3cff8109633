import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { plan } from "../../src/scheduler/plan.js";
import { countPerInstance, facts, minimumMoves, planInputArb } from "./support.js";

const RUNS = 3000;

describe("plan properties for arbitrary fleets (any maxLiveMoves)", () => {
  it("capacity: no instance exceeds it; non-eligible instances only keep their own streams", () => {
    fc.assert(
      fc.property(planInputArb(), (input) => {
        const r = plan(input);
        const f = facts(input);
        const load = countPerInstance(r.target, f.m);
        assert.deepEqual(Array.from(r.load), load);
        for (let i = 0; i < f.m; i++) {
          assert.ok(load[i]! <= input.capacity[i]!, `instance ${i} over capacity`);
          if (input.live[i] === 0) assert.equal(load[i], 0, `dead instance ${i} keeps streams`);
          if (f.open[i]) continue;
          r.target.forEach((t, s) => {
            if (t === i) assert.equal(input.owner[s], i, `non-eligible ${i} received stream ${s}`);
          });
          // A draining instance keeps streams only because the rate limit deferred them.
          if (load[i]! > 0) assert.ok(r.stats.deferred > 0);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("coverage: streams go unassigned only when every eligible slot is used", () => {
    fc.assert(
      fc.property(planInputArb(), (input) => {
        const r = plan(input);
        const f = facts(input);
        const load = countPerInstance(r.target, f.m);
        const keptByClosed = load.reduce((sum, l, i) => sum + (f.open[i] ? 0 : l), 0);
        const unassigned = r.target.filter((t) => t === -1).length;
        assert.equal(unassigned, Math.max(0, f.n - f.capSum - keptByClosed));
        if (unassigned > 0) {
          for (let i = 0; i < f.m; i++) if (f.open[i]) assert.equal(load[i], input.capacity[i]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("quota: within ±1 of the capacity-weighted share, capped by capacity, summing to min(N, C)", () => {
    fc.assert(
      fc.property(planInputArb({ maxCapacity: 1000, maxStreams: 200 }), (input) => {
        const { quota } = plan(input);
        const f = facts(input);
        const C = BigInt(f.capSum);
        let sum = 0;
        for (let i = 0; i < f.m; i++) {
          const q = quota[i]!;
          sum += q;
          if (!f.open[i]) {
            assert.equal(q, 0);
            continue;
          }
          assert.ok(q <= input.capacity[i]!);
          if (C === 0n) continue;
          // |q - T*c/C| < 1, compared exactly as |q*C - T*c| < C.
          const diff = BigInt(q) * C - BigInt(f.share) * BigInt(input.capacity[i]!);
          assert.ok(diff < C && -diff < C, `quota ${q} of instance ${i} is off by a unit or more`);
        }
        assert.equal(sum, f.share);
      }),
      { numRuns: RUNS },
    );
  });

  it("changed lists exactly the streams whose owner changes, ascending; stats add up", () => {
    fc.assert(
      fc.property(planInputArb(), (input) => {
        const r = plan(input);
        const f = facts(input);
        const expected: number[] = [];
        let kept = 0;
        let placed = 0;
        let moved = 0;
        let revoked = 0;
        r.target.forEach((t, s) => {
          const o = input.owner[s]!;
          if (t !== o) expected.push(s);
          const fromLive = o >= 0 && input.live[o] !== 0;
          if (fromLive && t === o) kept++;
          else if (fromLive && t >= 0) moved++;
          else if (fromLive) revoked++;
          else if (t >= 0) placed++;
        });
        assert.deepEqual(Array.from(r.changed), expected);
        const overCapacity = f.cur.reduce((sum, c, i) => sum + Math.max(0, c - input.capacity[i]!), 0);
        const wanted = f.cur.reduce((sum, c, i) => sum + Math.max(0, Math.min(c, input.capacity[i]!) - r.quota[i]!), 0);
        assert.deepEqual(r.stats, {
          kept,
          placed,
          moved,
          revoked,
          unassigned: r.target.filter((t) => t === -1).length,
          deferred: wanted - r.stats.liveMoves,
          liveMoves: r.stats.liveMoves,
          overCapacity,
        });
        assert.equal(moved + revoked, overCapacity + r.stats.liveMoves);
        assert.equal(r.stats.liveMoves, Math.min(input.maxLiveMoves, wanted));
      }),
      { numRuns: RUNS },
    );
  });

  it("an instance giving streams up keeps its lowest stream indices", () => {
    fc.assert(
      fc.property(planInputArb(), (input) => {
        const r = plan(input);
        const m = input.capacity.length;
        const gaveUp = new Array<boolean>(m).fill(false);
        input.owner.forEach((o, s) => {
          if (o < 0) return;
          if (r.target[s] !== o) gaveUp[o] = true;
          else assert.ok(!gaveUp[o], `instance ${o} kept stream ${s} after giving up a lower one`);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("an eligible instance that receives a stream ends at or below its quota", () => {
    fc.assert(
      fc.property(planInputArb(), (input) => {
        const r = plan(input);
        const received = new Set<number>();
        r.target.forEach((t, s) => {
          if (t >= 0 && t !== input.owner[s]) received.add(t);
        });
        for (const i of received) assert.ok(r.load[i]! <= r.quota[i]!, `instance ${i} overfilled`);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("plan properties with unlimited moves", () => {
  const unlimited = planInputArb({ limit: "unlimited" });

  it("balance: every eligible instance gets exactly its quota, nothing stays on closed ones", () => {
    fc.assert(
      fc.property(unlimited, (input) => {
        const r = plan(input);
        const f = facts(input);
        for (let i = 0; i < f.m; i++) assert.equal(r.load[i], f.open[i] ? r.quota[i] : 0);
        assert.equal(r.stats.deferred, 0);
        if (f.n <= f.capSum) assert.equal(r.stats.unassigned, 0);
        else assert.equal(r.stats.unassigned, f.n - f.capSum);
      }),
      { numRuns: RUNS },
    );
  });

  it("minimal movement: each live instance keeps min(current, quota); moves meet the lower bound", () => {
    fc.assert(
      fc.property(unlimited, (input) => {
        const r = plan(input);
        const f = facts(input);
        const keptBy = new Array<number>(f.m).fill(0);
        let placedUnowned = 0;
        input.owner.forEach((o, s) => {
          if (o >= 0 && r.target[s] === o) keptBy[o]!++;
          if (o < 0 && r.target[s]! >= 0) placedUnowned++;
        });
        let bound = f.deadOwned + placedUnowned;
        for (let i = 0; i < f.m; i++) {
          assert.equal(keptBy[i], Math.min(f.cur[i]!, r.quota[i]!));
          bound += Math.max(0, f.cur[i]! - r.quota[i]!);
        }
        assert.equal(r.changed.length, bound);
        // And no other quota vector within the ±1 rule would allow fewer moves.
        assert.equal(r.changed.length, minimumMoves(input, placedUnowned));
      }),
      { numRuns: RUNS },
    );
  });

  it("a planned fleet is stable: planning its result again moves nothing", () => {
    fc.assert(
      fc.property(unlimited, (input) => {
        const first = plan(input);
        const again = plan({ ...input, owner: first.target });
        assert.equal(again.changed.length, 0);
        assert.deepEqual(again.target, first.target);
        assert.deepEqual(again.quota, first.quota);
      }),
      { numRuns: RUNS },
    );
  });
});
