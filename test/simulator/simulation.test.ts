import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseChurnSpec } from "../../src/simulator/churn-spec.js";
import type { SimulationReport } from "../../src/simulator/report.js";
import { Simulation } from "../../src/simulator/simulation.js";
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";

const HEARTBEAT_MS = 500;
const LEASE_MS = 2_000;
const GRACE_MS = 1_000;

describe("a short simulation against a real orchestrator", () => {
  let orchestrator: TestOrchestrator;
  let report: SimulationReport;
  const notes: string[] = [];

  before(async () => {
    orchestrator = await startTestOrchestrator({
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      LEASE_TTL_MS: String(LEASE_MS),
      RECONNECT_GRACE_MS: String(GRACE_MS),
    });
    const simulation = new Simulation(
      {
        address: orchestrator.grpcAddress,
        orchestrator: "test",
        instances: 6,
        streams: 60,
        // 20 each: the 4 survivors of a kill plus a partition still hold all 60 streams.
        capacities: [20],
        // The kill's failover (the lease, which outlasts the grace) is over before the partition strikes; otherwise
        // its orphans could land on the partitioned instance and wait for its lease too. The
        // partition outlasts the lease, so its streams must move before it heals.
        churn: parseChurnSpec("kill:1@1s,partition:1@4s/3s"),
        durationMs: 9_000,
        seed: 1,
        setupTimeoutMs: 10_000,
      },
      { onNote: (text) => notes.push(text) },
    );
    report = await simulation.run();
  });

  after(async () => {
    await orchestrator?.close();
  });

  test("sees no stream on two up instances at once", () => {
    assert.deepEqual(report.violations, [], notes.join("\n"));
  });

  test("ends with every stream running and none unassigned", () => {
    assert.equal(report.final.unservedLedger, 0);
    assert.equal(report.final.unassignedStatus, 0);
    assert.equal(report.instances.upAtEnd, 5, "the killed one stays dead, the partitioned one is back");
    assert.deepEqual(report.notes, [], "setup converged and capacity never ran short");
  });

  test("measures the kill's failover after the grace, within lease + margin + 1 s, all streams moved", () => {
    const kill = report.faults.find((f) => f.action === "kill");
    assert.ok(kill, "the kill fired");
    assert.ok(kill.orphans > 0, "the victim ran streams");
    assert.equal(kill.moved, kill.orphans);
    assert.ok(kill.failoverMs !== undefined, "the failover finished");
    assert.ok(kill.failoverMs >= GRACE_MS - 100, `failover ${kill.failoverMs} ms cannot beat the grace`);
    // A broken connection keeps its streams until the lease, renewed by the last heartbeat, is over too.
    assert.ok(kill.failoverMs <= LEASE_MS + leaseMarginMs(LEASE_MS) + 1_000, `failover ${kill.failoverMs} ms`);
  });

  test("measures the partition's failover within lease + 1 s, all streams moved before it healed", () => {
    const partition = report.faults.find((f) => f.action === "partition");
    assert.ok(partition, "the partition fired");
    assert.ok(partition.orphans > 0, "the victim ran streams");
    assert.ok(partition.failoverMs !== undefined, "the failover finished");
    assert.ok(partition.failoverMs <= LEASE_MS + 1_000, `failover ${partition.failoverMs} ms`);
    assert.ok(partition.failoverMs >= LEASE_MS - HEARTBEAT_MS - 100, `failover ${partition.failoverMs} ms cannot beat the lease`);
    assert.equal(partition.moved, partition.orphans, "moved by the orchestrator, not kept by healing");
  });

  test("the report counts the moves the failovers caused", () => {
    const orphans = report.faults.reduce((n, f) => n + f.orphans, 0);
    assert.ok(report.moves >= orphans, `moves ${report.moves} < orphans ${orphans}`);
  });
});
