import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { plan } from "../../src/scheduler/plan.js";
import type { PlanResult } from "../../src/scheduler/types.js";

interface Case {
  capacity: number[];
  /** Defaults to all eligible. */
  eligible?: number[];
  /** Defaults to all live. */
  live?: number[];
  owner: number[];
  maxLiveMoves?: number;
}

function run(c: Case): PlanResult {
  const m = c.capacity.length;
  return plan({
    capacity: Uint32Array.from(c.capacity),
    eligible: Uint8Array.from(c.eligible ?? new Array<number>(m).fill(1)),
    live: Uint8Array.from(c.live ?? new Array<number>(m).fill(1)),
    owner: Int32Array.from(c.owner),
    maxLiveMoves: c.maxLiveMoves ?? Infinity,
  });
}

const none = (n: number) => new Array<number>(n).fill(-1);

describe("plan examples", () => {
  it("spreads streams over equal instances from nothing", () => {
    const r = run({ capacity: [10, 10, 10], owner: none(9) });
    assert.deepEqual(Array.from(r.quota), [3, 3, 3]);
    assert.deepEqual(Array.from(r.load), [3, 3, 3]);
    assert.equal(r.stats.placed, 9);
    assert.equal(r.changed.length, 9);
  });

  it("weights shares by capacity", () => {
    const r = run({ capacity: [10, 20, 30], owner: none(12) });
    assert.deepEqual(Array.from(r.quota), [2, 4, 6]);
  });

  it("on a join, takes the newcomer's share from the highest stream indices of the fullest", () => {
    // Instances 0 and 1 hold five streams each; instance 2 joins.
    const owner = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    const r = run({ capacity: [10, 10, 10], owner });
    // 10/3 each: the spare unit stays with instance 0 (a holder, lower index) so fewer streams move.
    assert.deepEqual(Array.from(r.quota), [4, 3, 3]);
    assert.deepEqual(Array.from(r.changed), [4, 8, 9]);
    assert.deepEqual(Array.from(r.target), [0, 0, 0, 0, 2, 1, 1, 1, 2, 2]);
    assert.equal(r.stats.moved, 3);
  });

  it("on a death, places only the dead instance's streams", () => {
    const owner = [0, 1, 2, 0, 1, 2, 0, 1, 2];
    const r = run({ capacity: [10, 10, 10], live: [1, 0, 1], owner });
    assert.deepEqual(Array.from(r.changed), [1, 4, 7]);
    assert.deepEqual(Array.from(r.load), [5, 0, 4]);
    assert.deepEqual(r.stats, {
      kept: 6,
      placed: 3,
      moved: 0,
      revoked: 0,
      unassigned: 0,
      deferred: 0,
      liveMoves: 0,
      overCapacity: 0,
    });
  });

  it("drains a draining instance at most maxLiveMoves per round, highest stream first", () => {
    const r = run({ capacity: [10, 10], eligible: [0, 1], owner: [0, 0, 0, 0], maxLiveMoves: 1 });
    assert.deepEqual(Array.from(r.target), [0, 0, 0, 1]);
    assert.equal(r.stats.liveMoves, 1);
    assert.equal(r.stats.deferred, 3);
  });

  it("under a rate limit, spreads moves evenly over givers and over receivers", () => {
    // Instances 0 and 1 hold 8 streams each; instances 2 and 3 join; quotas are 4 each.
    const owner = [...new Array<number>(8).fill(0), ...new Array<number>(8).fill(1)];
    const r = run({ capacity: [10, 10, 10, 10], owner, maxLiveMoves: 2 });
    assert.deepEqual(Array.from(r.changed), [7, 15]);
    assert.deepEqual(Array.from(r.load), [7, 7, 1, 1]);
    assert.equal(r.stats.deferred, 6);
  });

  it("freezes live streams with maxLiveMoves 0 but still places orphans and new streams", () => {
    // Instance 2 just joined, instance 3 died holding stream 4, stream 5 is new.
    const r = run({
      capacity: [4, 4, 4, 4],
      live: [1, 1, 1, 0],
      owner: [0, 0, 1, 1, 3, -1],
      maxLiveMoves: 0,
    });
    assert.deepEqual(Array.from(r.target), [0, 0, 1, 1, 2, 2]);
    assert.equal(r.stats.placed, 2);
    assert.equal(r.stats.liveMoves, 0);
  });

  it("when streams outnumber slots, fills every slot and leaves the unassigned ones unassigned", () => {
    const r = run({ capacity: [2, 2], owner: [0, 0, 1, -1, -1, -1] });
    assert.deepEqual(Array.from(r.target), [0, 0, 1, 1, -1, -1]);
    assert.deepEqual(Array.from(r.changed), [3]);
    assert.equal(r.stats.unassigned, 2);
  });

  it("when slots run out, places streams that were running before never-assigned ones", () => {
    // Instance 1 died holding stream 2; streams 0 and 1 were never assigned; one slot is free.
    const r = run({ capacity: [1, 5], live: [1, 0], owner: [-1, -1, 1] });
    assert.deepEqual(Array.from(r.target), [-1, -1, 0]);
    assert.deepEqual(Array.from(r.changed), [2]);
  });

  it("revokes a draining instance's streams when no slot is left for them", () => {
    const r = run({ capacity: [2, 2], eligible: [1, 0], owner: [0, 0, 1, 1] });
    assert.deepEqual(Array.from(r.target), [0, 0, -1, -1]);
    assert.equal(r.stats.revoked, 2);
  });

  it("treats capacity as hard: sheds overflow even when live moves are frozen", () => {
    // Instance 0 reconnected with capacity 3 while holding 5 streams.
    const r = run({ capacity: [3, 10], owner: [0, 0, 0, 0, 0], maxLiveMoves: 0 });
    assert.deepEqual(Array.from(r.target), [0, 0, 0, 1, 1]);
    assert.equal(r.stats.overCapacity, 2);
    assert.equal(r.stats.liveMoves, 0);
  });

  it("ignores the eligible flag of an instance that is not live", () => {
    const r = run({ capacity: [5, 5], eligible: [1, 1], live: [1, 0], owner: [1, -1] });
    assert.deepEqual(Array.from(r.target), [0, 0]);
    assert.deepEqual(Array.from(r.quota), [2, 0]);
  });

  it("±1 balance can force a move even when the dead instance held nothing", () => {
    // Balanced for capacities 9,1,2,1 (shares 2.8, 0.3, 0.6, 0.3). Once instance 3 is
    // gone, instance 0's share is exactly 3, so it must receive a stream from a peer.
    const owner = [0, 0, 1, 2];
    assert.equal(run({ capacity: [9, 1, 2, 1], owner }).changed.length, 0);
    const r = run({ capacity: [9, 1, 2, 1], live: [1, 1, 1, 0], owner });
    assert.equal(r.quota[0], 3);
    assert.deepEqual(Array.from(r.target), [0, 0, 0, 2]);
  });

  it("handles empty fleets and empty catalogs", () => {
    assert.deepEqual(Array.from(run({ capacity: [], owner: [-1, -1] }).target), [-1, -1]);
    const r = run({ capacity: [3], owner: [] });
    assert.equal(r.target.length, 0);
    assert.deepEqual(Array.from(r.quota), [0]);
  });
});

describe("plan input validation", () => {
  const base = { capacity: [1, 1], owner: [0, 1] };

  it("rejects owners outside [-1, M)", () => {
    assert.throws(() => run({ ...base, owner: [2] }), RangeError);
    assert.throws(() => run({ ...base, owner: [-2] }), RangeError);
  });

  it("rejects instance arrays of different lengths", () => {
    assert.throws(() => run({ ...base, live: [1] }), RangeError);
    assert.throws(() => run({ ...base, eligible: [1, 1, 1] }), RangeError);
  });

  it("rejects a negative or NaN maxLiveMoves", () => {
    assert.throws(() => run({ ...base, maxLiveMoves: -1 }), RangeError);
    assert.throws(() => run({ ...base, maxLiveMoves: Number.NaN }), RangeError);
  });

  it("rejects plain arrays in place of typed arrays", () => {
    const input = { capacity: [1], eligible: [1], live: [1], owner: [0], maxLiveMoves: 0 };
    assert.throws(() => plan(input as never), TypeError);
  });
});
