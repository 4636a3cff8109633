import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { plan } from "../../src/scheduler/plan.js";
import {
  countPerInstance,
  facts,
  healthyFleetArb,
  healthyInput,
  planInputArb,
  snapshot,
  unassigned,
  withInstanceAt,
} from "./support.js";

const RUNS = 3000;

/** A fleet of healthy instances balanced by plan() from nothing, with N <= total capacity. */
const balancedFleetArb = healthyFleetArb().chain((capacity) => {
  const total = capacity.reduce((a, b) => a + b, 0);
  return fc.integer({ min: 0, max: total }).map((n) => ({
    capacity,
    owner: plan(healthyInput(capacity, unassigned(n))).target,
  }));
});

describe("rate limiting", () => {
  it("streams taken from live owners stay within maxLiveMoves, except capacity overflow", () => {
    fc.assert(
      fc.property(planInputArb(), (input) => {
        const r = plan(input);
        const f = facts(input);
        const left = new Array<number>(f.m).fill(0);
        input.owner.forEach((o, s) => {
          if (o >= 0 && input.live[o] !== 0 && r.target[s] !== o) left[o]!++;
        });
        let limited = 0;
        for (let i = 0; i < f.m; i++) {
          const overflow = Math.max(0, f.cur[i]! - input.capacity[i]!);
          assert.ok(left[i]! >= overflow, `instance ${i} kept more than its capacity`);
          limited += left[i]! - overflow;
        }
        assert.ok(limited <= input.maxLiveMoves);
        if (input.maxLiveMoves === 0) assert.equal(limited, 0);
      }),
      { numRuns: RUNS },
    );
  });

  it("orphans and unassigned streams are placed regardless of the limit", () => {
    fc.assert(
      fc.property(planInputArb(), (input) => {
        const frozen = plan({ ...input, maxLiveMoves: 0 });
        const free = plan({ ...input, maxLiveMoves: Infinity });
        const f = facts(input);
        const waiting = f.deadOwned + f.unowned;
        // Freezing live streams can only leave more room for orphans, never less.
        assert.ok(frozen.stats.placed >= free.stats.placed);
        // Frozen, every live owner keeps what fits; orphans take what room remains after
        // the capacity overflow (which is placed first, being streams that were running).
        let room = 0;
        let overflow = 0;
        for (let i = 0; i < f.m; i++) {
          const c = input.capacity[i]!;
          overflow += Math.max(0, f.cur[i]! - c);
          if (f.open[i]) room += c - Math.min(f.cur[i]!, c);
        }
        const expected = f.n <= f.capSum ? waiting : Math.min(waiting, Math.max(0, room - overflow));
        assert.equal(frozen.stats.placed, expected);
        input.owner.forEach((o, s) => {
          const orphan = o < 0 || input.live[o] === 0;
          if (orphan && frozen.target[s] === -1) {
            const load = countPerInstance(frozen.target, f.m);
            for (let i = 0; i < f.m; i++) if (f.open[i]) assert.equal(load[i], input.capacity[i]);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("drains non-eligible instances before rebalancing eligible ones", () => {
    fc.assert(
      fc.property(planInputArb(), (input) => {
        const r = plan(input);
        const f = facts(input);
        const draining = r.load.some((l, i) => l > 0 && !f.open[i]);
        if (!draining) return;
        input.owner.forEach((o, s) => {
          if (o < 0 || !f.open[o] || r.target[s] === o) return;
          // An eligible owner may only lose streams above its capacity while a drain is pending.
          assert.ok(f.cur[o]! > input.capacity[o]!, `stream ${s} rebalanced off ${o} during a drain`);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("repeated limited rounds reach a balanced fleet", () => {
    fc.assert(
      fc.property(planInputArb(), fc.integer({ min: 1, max: 5 }), (input, limit) => {
        let owner = input.owner;
        let rounds = 0;
        for (;;) {
          const r = plan({ ...input, owner, maxLiveMoves: limit });
          owner = r.target;
          if (r.stats.deferred === 0) break;
          rounds++;
          assert.ok(rounds <= input.owner.length, "no progress");
        }
        // The end state may differ from the unlimited plan (quotas prefer what instances
        // hold), but it is one the unlimited plan accepts as balanced.
        const settled = plan({ ...input, owner, maxLiveMoves: Infinity });
        assert.equal(settled.changed.length, 0);
        assert.deepEqual(settled.load, settled.quota);
      }),
      { numRuns: 500 },
    );
  });
});

describe("joins and deaths in a balanced fleet (unlimited moves)", () => {
  it("a balanced fleet moves nothing", () => {
    fc.assert(
      fc.property(balancedFleetArb, ({ capacity, owner }) => {
        assert.equal(plan(healthyInput(capacity, owner)).changed.length, 0);
      }),
      { numRuns: RUNS },
    );
  });

  it("a join moves exactly the newcomer's quota, all of it onto the newcomer", () => {
    fc.assert(
      fc.property(balancedFleetArb, fc.nat(), fc.integer({ min: 1, max: 30 }), (fleet, at, cap) => {
        const pos = at % (fleet.capacity.length + 1);
        const joined = withInstanceAt(fleet.capacity, fleet.owner, pos, cap);
        const r = plan(healthyInput(joined.capacity, joined.owner));
        assert.equal(r.changed.length, r.quota[pos]);
        for (const s of r.changed) assert.equal(r.target[s], pos);
      }),
      { numRuns: RUNS },
    );
  });

  it("a death moves only the dead instance's streams", () => {
    fc.assert(
      fc.property(balancedFleetArb, fc.nat(), (fleet, pick) => {
        const dead = pick % fleet.capacity.length;
        const input = healthyInput(fleet.capacity, fleet.owner);
        const live = input.live.slice();
        live[dead] = 0;
        const r = plan({ ...input, live });
        const expected = [...fleet.owner.keys()].filter((s) => fleet.owner[s] === dead);
        assert.deepEqual(Array.from(r.changed), expected);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("determinism", () => {
  it("same input gives byte-identical output and the input is not mutated", () => {
    fc.assert(
      fc.property(planInputArb(), (input) => {
        const before = snapshot(input);
        const a = plan(input);
        const b = plan(snapshot(input));
        for (const key of ["capacity", "eligible", "live", "owner", "maxLiveMoves"] as const) {
          assert.deepEqual(input[key], before[key], `input ${key} was mutated`);
        }
        for (const key of ["target", "quota", "load", "changed"] as const) {
          assert.ok(Buffer.from(a[key].buffer).equals(Buffer.from(b[key].buffer)), `${key} differs`);
        }
        assert.deepEqual(a.stats, b.stats);
      }),
      { numRuns: RUNS },
    );
  });
});
