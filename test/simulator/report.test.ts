import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { FaultRecord } from "../../src/simulator/failover-tracker.js";
import { countFaults, failoverStats, renderReport, type SimulationReport } from "../../src/simulator/report.js";
import { balance, formatMs, percentile, summarize } from "../../src/simulator/stats.js";

describe("percentile (nearest rank)", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  test("picks the smallest value with p % of the values at or below it", () => {
    assert.equal(percentile(hundred, 50), 50);
    assert.equal(percentile(hundred, 99), 99);
    assert.equal(percentile(hundred, 100), 100);
    assert.equal(percentile([10, 20, 30, 40], 50), 20);
    assert.equal(percentile([10, 20, 30, 40], 51), 30);
  });

  test("with few values, p99 is the largest and p50 the lower middle", () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(ten, 99), 10);
    assert.equal(percentile(ten, 50), 5);
    assert.equal(percentile([7], 50), 7);
    assert.equal(percentile([7], 99), 7);
  });

  test("refuses no values and percentages outside (0, 100]", () => {
    assert.throws(() => percentile([], 50), RangeError);
    assert.throws(() => percentile([1], 0), RangeError);
    assert.throws(() => percentile([1], 101), RangeError);
  });
});

describe("summarize", () => {
  test("sorts before ranking and reports count, p50, p99 and max", () => {
    assert.deepEqual(summarize([3_000, 1_000, 2_000, 1_500]), { count: 4, p50: 1_500, p99: 3_000, max: 3_000 });
  });

  test("is undefined for no values", () => {
    assert.equal(summarize([]), undefined);
  });
});

describe("balance", () => {
  test("a perfectly even fleet has spread 0", () => {
    const b = balance([{ running: 10, capacity: 20 }, { running: 10, capacity: 20 }]);
    assert.deepEqual(b, { spread: 0, minLoad: 0.5, maxLoad: 0.5 });
  });

  test("spread is max minus min deviation from the capacity-weighted fair share", () => {
    // 30 streams over capacities 10, 20, 30: fair shares 5, 10, 15; deviations +1, -1, 0.
    const b = balance([{ running: 6, capacity: 10 }, { running: 9, capacity: 20 }, { running: 15, capacity: 30 }]);
    assert.ok(b);
    assert.ok(Math.abs(b.spread - 2) < 1e-9, `spread ${b.spread}`);
    assert.equal(b.minLoad, 0.45);
    assert.equal(b.maxLoad, 0.6);
  });

  test("ignores instances without capacity, and is undefined when none has any", () => {
    assert.deepEqual(balance([{ running: 4, capacity: 8 }, { running: 0, capacity: 0 }]), { spread: 0, minLoad: 0.5, maxLoad: 0.5 });
    assert.equal(balance([{ running: 0, capacity: 0 }]), undefined);
    assert.equal(balance([]), undefined);
  });
});

test("formatMs picks a readable unit", () => {
  assert.deepEqual([850, 1_213, 12_345, 125_000].map(formatMs), ["850 ms", "1.21 s", "12.3 s", "2m05s"]);
});

function fault(action: FaultRecord["action"], failoverMs: number | undefined, orphans = 10): FaultRecord {
  return { action, instanceId: `sim-i-${action}`, atMs: 1_000, orphans, moved: failoverMs === undefined ? 0 : orphans, kept: 0, failoverMs };
}

describe("failoverStats", () => {
  const faults = [
    fault("kill", 1_000),
    fault("kill", 3_000),
    fault("partition", 4_000),
    fault("restart", undefined),
    fault("leave", 0, 0),
    { ...fault("join", undefined, 0), upAfterMs: 5 },
  ];

  test("counts failures that orphaned streams; joins and empty victims are not failovers", () => {
    const all = failoverStats(faults);
    assert.equal(all.measured, 4);
    assert.equal(all.recovered, 3);
    assert.deepEqual(all.summary, { count: 3, p50: 3_000, p99: 4_000, max: 4_000 });
  });

  test("filters by action", () => {
    assert.deepEqual(failoverStats(faults, "kill").summary, { count: 2, p50: 1_000, p99: 3_000, max: 3_000 });
    assert.equal(failoverStats(faults, "restart").recovered, 0);
    assert.equal(failoverStats(faults, "restart").summary, undefined);
  });

  test("countFaults lists actions in a fixed order", () => {
    assert.equal(countFaults(faults), "6 (kill 2, partition 1, restart 1, leave 1, join 1)");
    assert.equal(countFaults([]), "0");
  });
});

describe("renderReport", () => {
  const report: SimulationReport = {
    scenario: "kill:2@2s,partition:1@4s/5s",
    seed: 42,
    orchestrator: "in this process",
    plannedMs: 10_000,
    elapsedMs: 10_000,
    interrupted: false,
    instances: { initial: 6, joined: 0, upAtEnd: 5, capacities: "20" },
    streams: 60,
    faults: [fault("kill", 1_040), fault("kill", 1_100), fault("partition", undefined)],
    violations: [{ at: 3_000, streamId: "sim-00007", instanceId: "sim-i-002", otherId: "sim-i-004" }],
    moves: 33,
    coverage: {
      streams: 60,
      windowMs: 10_000,
      starts: 45,
      extraStarts: 12,
      moves: 33,
      forcedStops: 20,
      unmonitoredMs: 4_200,
      unmonitoredWarmMs: 61_500,
      doubleMs: 0,
      monitored: 0.993,
      monitoredWarm: 0.8975,
      ceilingWarm: 0.95,
    },
    final: { balance: { spread: 1.5, minLoad: 0.55, maxLoad: 0.65 }, unservedLedger: 0, unassignedStatus: 2 },
    notes: ["something to know"],
  };
  const text = renderReport(report);
  const row = (label: string) => text.split("\n").find((l) => l.trimStart().startsWith(label)) ?? "";

  test("has one summary row per figure", () => {
    assert.match(row("scenario"), /kill:2@2s,partition:1@4s\/5s\s+\(seed 42, 10.0 s\)/);
    assert.match(row("instances"), /6 at start, 0 joined, 5 up at end \(capacity 20\)/);
    assert.match(row("streams"), /60$/);
    assert.match(row("faults"), /3 \(kill 2, partition 1\)/);
    assert.match(row("failovers "), /2 of 3 recovered: p50 1.04 s · p99 1.10 s · max 1.10 s/);
    assert.match(row("violations "), /1$/);
    assert.match(row("coverage"), /45 starts \(12 extra\) · unmonitored 4.2 s stream-time \(61.5 s with warm-up\) · double 0.0 s · monitored 99.3 % \(89.8 % with warm-up; ceiling 95.0 %\)/);
    assert.match(row("final spread"), /1.5 streams \(load 55.0 % – 65.0 %\)/);
    assert.match(row("unassigned"), /0 not running on an up instance \(ledger\) · 2 unassigned \(GetStatus\)/);
  });

  test("lists every fault, the unrecovered one with how many streams are left", () => {
    assert.match(text, /partition\s+1.0 s\s+sim-i-partition\s+10\s+0\s+0\s+unrecovered \(10 left\)/);
    assert.equal(text.split("\n").filter((l) => /^\s+kill\s+1.0 s/.test(l)).length, 2);
  });

  test("spells out violations and notes", () => {
    assert.match(text, /sim-00007 on sim-i-002 while running on sim-i-004/);
    assert.match(text, /note: something to know/);
  });

  test("says when the run was interrupted", () => {
    assert.match(renderReport({ ...report, interrupted: true, elapsedMs: 4_200 }), /4.20 s of 10.0 s, interrupted/);
  });
});
