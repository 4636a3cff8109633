import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CoverageMeter } from "../../src/simulator/coverage.js";
import { MeasureIndex, measure, union } from "../../src/simulator/intervals.js";

describe("intervals", () => {
  test("union merges overlapping and touching intervals and drops empty ones", () => {
    assert.deepEqual(union([[5, 7], [0, 2], [1, 3], [3, 4], [9, 9]]), [[0, 4], [5, 7]]);
    assert.equal(measure([[0, 2], [1, 3]]), 4);
  });

  test("a measure index answers how much of the set lies inside any interval", () => {
    const index = new MeasureIndex([[0, 10], [20, 30], [40, 50]]);
    assert.equal(index.within(0, 50), 30);
    assert.equal(index.within(5, 25), 10);
    assert.equal(index.within(10, 20), 0);
    assert.equal(index.within(45, 100), 5);
    assert.equal(index.within(-10, 1), 1);
    assert.equal(index.withinAll([[0, 5], [25, 45]]), 15);
  });
});

describe("CoverageMeter", () => {
  const W = 15_000;

  test("a cold start: unmonitored until placed, the warm-up on top, no extra starts", () => {
    const m = new CoverageMeter(["s1", "s2"], W);
    m.begin(0);
    m.up("a", 10, 0);
    m.started("a", "s1", 1_000);
    m.started("a", "s2", 3_000);
    const r = m.report(100_000);
    assert.equal(r.starts, 2);
    assert.equal(r.extraStarts, 0);
    assert.equal(r.moves, 0);
    assert.equal(r.unmonitoredMs, 1_000 + 3_000);
    assert.equal(r.unmonitoredWarmMs, 16_000 + 18_000);
    assert.equal(r.doubleMs, 0);
    assert.equal(r.monitored, 1 - 4_000 / 200_000);
    // The perfect orchestrator starts both at once (there was room from 0) and pays one warm-up each.
    assert.equal(r.ceilingWarm, 1 - 30_000 / 200_000);
  });

  test("a move is an extra start; a restart forced by the worker process stopping is not", () => {
    const m = new CoverageMeter(["s1", "s2"], W);
    m.up("a", 10, 0);
    m.up("b", 10, 0);
    m.started("a", "s1", 0);
    m.started("a", "s2", 0);
    m.begin(50_000);
    // s1 moves from a live a to b: one extra start.
    m.stopped("a", "s1", 60_000);
    m.started("b", "s1", 61_000);
    // a's process stops (s2 with it) and comes back; s2 restarts on a: forced, not extra.
    m.down("a", 70_000);
    m.up("a", 10, 71_000);
    m.started("a", "s2", 72_000);
    const r = m.report(150_000);
    assert.equal(r.starts, 2);
    assert.equal(r.moves, 1);
    assert.equal(r.forcedStops, 1);
    assert.equal(r.extraStarts, 1);
    assert.equal(r.unmonitoredMs, 1_000 + 2_000);
    // s1: 1 s gap + 15 s warm-up; s2: 2 s gap + 15 s warm-up.
    assert.equal(r.unmonitoredWarmMs, 16_000 + 17_000);
    assert.equal(r.ceilingWarm, 1 - 15_000 / 200_000);
  });

  test("time with no room anywhere is not counted as unmonitored; overlapping owners are double", () => {
    const m = new CoverageMeter(["s1", "s2"], 0);
    m.begin(0);
    m.up("a", 1, 0);
    m.started("a", "s1", 0);
    // From 0 to 10 s a is full and s2 has nowhere to go.
    m.up("b", 1, 10_000);
    m.started("b", "s2", 12_000);
    // s2 also runs on a new c for 3 s.
    m.up("c", 5, 20_000);
    m.started("c", "s2", 20_000);
    m.stopped("c", "s2", 23_000);
    const r = m.report(30_000);
    // From 10 s b had room, and s2 waited 2 s of it; from 20 s c has room but both streams run.
    assert.equal(r.unmonitoredMs, 2_000);
    assert.equal(r.doubleMs, 3_000);
    assert.equal(r.moves, 1);
    assert.deepEqual(m.placement(), { unplaced: 0, doubled: 0 });
  });

  test("stops and starts of an instance that is down are ignored", () => {
    const m = new CoverageMeter(["s1"], 0);
    m.begin(0);
    m.up("a", 1, 0);
    m.started("a", "s1", 0);
    m.down("a", 5_000);
    m.stopped("a", "s1", 6_000);
    m.started("a", "s1", 6_000);
    const r = m.report(10_000);
    assert.equal(r.starts, 1);
    assert.equal(r.unmonitoredMs, 0, "no instance alive, so no room: nothing counts");
    assert.equal(r.forcedStops, 1);
    assert.throws(() => (m.up("a", 1, 7_000), m.up("a", 1, 8_000)), /already up/);
  });

  test("a part of the window is summed up on its own, for a breakdown by phase", () => {
    const m = new CoverageMeter(["s1"], 0);
    m.begin(0);
    m.up("a", 1, 0);
    m.started("a", "s1", 1_000);
    m.down("a", 10_000);
    m.up("b", 1, 10_000);
    m.started("b", "s1", 14_000);
    const early = m.report(5_000, 0);
    assert.equal(early.starts, 1);
    assert.equal(early.unmonitoredMs, 1_000);
    const late = m.report(20_000, 5_000);
    assert.equal(late.starts, 1);
    assert.equal(late.forcedStops, 1);
    assert.equal(late.extraStarts, 0);
    assert.equal(late.unmonitoredMs, 4_000);
    assert.equal(m.report(20_000).unmonitoredMs, 5_000);
  });

  test("the ceiling counts overlapping warm-ups once", () => {
    const m = new CoverageMeter(["s1"], W);
    m.begin(0);
    m.up("a", 1, 0);
    m.started("a", "s1", 0);
    m.down("a", 5_000);
    m.up("b", 1, 5_000);
    m.started("b", "s1", 5_000);
    // Unavoidable starts at 0 and 5 s: warm-ups [0, 15) and [5, 20) cover 20 s together.
    assert.equal(m.report(40_000).ceilingWarm, 1 - 20_000 / 40_000);
  });

  test("a stream already running when the window opens counts as warm", () => {
    const m = new CoverageMeter(["s1"], W);
    m.up("a", 1, 0);
    m.started("a", "s1", 0);
    m.begin(1_000);
    assert.equal(m.report(10_000).unmonitoredWarmMs, 0);
  });
});
