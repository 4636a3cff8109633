import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { GrantedStream, SessionHandle } from "../../src/coordinator/types.js";
import { createTestDatabase, queryRows, type TestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";

/** A session that only records what the coordinator sends it. */
class RecordingSession implements SessionHandle {
  readonly peer = "test";
  readonly assignments: Array<{ full: boolean; add: GrantedStream[]; remove: string[] }> = [];
  ended?: string;
  constructor(readonly sessionId: string) {}
  sendWelcome(): void {}
  sendAssignment(change: { full: boolean; add: GrantedStream[]; remove: string[] }): number {
    this.assignments.push(change);
    return this.assignments.length;
  }
  sendGoAway(): void {}
  end(reason: { kind: string }): void {
    this.ended = reason.kind;
  }
}

async function draining(database: TestDatabase, id: string): Promise<boolean | undefined> {
  const rows = await queryRows<{ draining: boolean }>(database.url, "select draining from orchestrator.instances where id = $1", [id]);
  return rows[0]?.draining;
}

describe("draining an instance whose first round is not written yet", () => {
  let database: TestDatabase;
  let orchestrator: TestOrchestrator;

  before(async () => {
    database = await createTestDatabase();
    orchestrator = await startTestOrchestrator({}, database);
  });
  after(async () => {
    await orchestrator.close();
    await database.drop();
  });

  test("is accepted, written with the instance's row, and still in force after a restart", async () => {
    const coordinator = orchestrator.app.coordinator;
    assert.equal(await draining(database, "fresh"), undefined);
    coordinator.hello(new RecordingSession("s1"), { instanceId: "fresh", capacity: 5, held: [], labels: {}, version: "t" });
    // Same tick as the hello: the round it asked for has not run, so the instance has no row yet.
    assert.equal(await coordinator.setDraining("fresh", true), true);
    assert.equal(coordinator.view.instance("fresh")?.draining, true);
    assert.equal(await draining(database, "fresh"), true, "persisted before the call returned");

    await orchestrator.close();
    orchestrator = await startTestOrchestrator({}, database);
    assert.equal(orchestrator.app.coordinator.view.instance("fresh")?.draining, true);

    assert.equal(await orchestrator.app.coordinator.setDraining("fresh", false), true);
    assert.equal(await draining(database, "fresh"), false);
  });

  test("an unknown instance is reported as such", async () => {
    assert.equal(await orchestrator.app.coordinator.setDraining("nobody", true), false);
  });
});

async function eventKinds(database: TestDatabase, instanceId: string): Promise<string[]> {
  const rows = await queryRows<{ kind: string }>(database.url, "select kind from orchestrator.events where instance_id = $1 order by id", [instanceId]);
  return rows.map((r) => r.kind);
}

describe("shutdown", () => {
  test("writes the audit events and instance rows no round has written yet", async () => {
    const database = await createTestDatabase();
    try {
      const orchestrator = await startTestOrchestrator({}, database);
      orchestrator.app.coordinator.hello(new RecordingSession("s2"), { instanceId: "late", capacity: 3, held: [], labels: {}, version: "t" });
      // Stopping in the same tick: the round the hello asked for never runs.
      await orchestrator.close();
      assert.deepEqual(await eventKinds(database, "late"), ["instance.joined"]);
      assert.equal(await draining(database, "late"), false, "the instance row was written");
    } finally {
      await database.drop();
    }
  });

  test("a drain asked for during shutdown is refused and changes nothing", async () => {
    const orchestrator = await startTestOrchestrator();
    const coordinator = orchestrator.app.coordinator;
    coordinator.hello(new RecordingSession("s3"), { instanceId: "busy", capacity: 1, held: [], labels: {}, version: "t" });
    await orchestrator.close();
    await assert.rejects(coordinator.setDraining("busy", true), { name: "ShuttingDownError" });
    assert.equal(coordinator.view.instance("busy")?.draining, false);
  });

  test("rounds asked for then are refused with an error instead of waiting forever", { timeout: 10_000 }, async () => {
    const orchestrator = await startTestOrchestrator();
    const coordinator = orchestrator.app.coordinator;
    await orchestrator.close();
    await assert.rejects(coordinator.rebalanceNow(), { name: "ShuttingDownError" });
  });
});
