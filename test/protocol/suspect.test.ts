import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { RawSession } from "../helpers/raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { sleep, waitUntil } from "../helpers/wait.js";

const HEARTBEAT = 300;
const SUSPECT = 600;
const LEASE = 5_000;

describe("a connected instance that has gone quiet (suspect)", () => {
  let orchestrator: TestOrchestrator;
  let admin: AdminClient;
  const sessions: RawSession[] = [];
  const open = (id: string) => {
    const s = new RawSession(orchestrator.grpcAddress).autoAck();
    s.hello({ instanceId: id, capacity: 20 });
    sessions.push(s);
    return s;
  };

  beforeEach(async () => {
    orchestrator = await startTestOrchestrator({
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT),
      SUSPECT_AFTER_MS: String(SUSPECT),
      LEASE_TTL_MS: String(LEASE),
    });
    admin = new AdminClient(orchestrator.grpcAddress);
    await admin.upsert(streamIds(18).map((id) => ({ id })));
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    admin.close();
    await orchestrator.close();
  });

  test("keeps its streams but gets no orphans; heard from again, it gets its share back", async () => {
    const a = open("a");
    const b = open("b");
    const c = open("c");
    a.heartbeatEvery(100);
    b.heartbeatEvery(100);
    const quiet = c.heartbeatEvery(100);
    await waitUntil(() => a.owned().size === 6 && b.owned().size === 6 && c.owned().size === 6, 3_000, "6/6/6");
    const cHeld = new Map(c.owned());

    quiet();
    await sleep(SUSPECT + 200);
    a.send({ $case: "leave", value: { reason: "test" } });
    // a's six streams go to b alone: c is still connected and leased, but silent.
    await waitUntil(() => b.owned().size === 12, 3_000, "b to take all of a's streams");
    await sleep(200);
    assert.deepEqual(c.owned(), cHeld, "the suspect keeps exactly what it had");
    const suspect = orchestrator.app.coordinator.events.recent(50, (e) => e.kind === "instance.suspect");
    assert.deepEqual(suspect.map((e) => e.instanceId), ["c"]);
    assert.ok(Number(suspect[0]!.detail!.silent_ms) >= SUSPECT);

    // Its next message asks for a round, which balances the two of them again.
    c.heartbeatEvery(100);
    await waitUntil(() => b.owned().size === 9 && c.owned().size === 9, 3_000, "9/9 once c is heard from");
    for (const [id, epoch] of cHeld) assert.equal(c.owned().get(id), epoch, `c kept ${id} throughout`);
  });

  test("instances that keep heartbeating are never held out", async () => {
    const a = open("a");
    const b = open("b");
    a.heartbeatEvery(100);
    b.heartbeatEvery(100);
    await waitUntil(() => a.owned().size === 9 && b.owned().size === 9, 3_000, "9/9");
    await sleep(SUSPECT * 2);
    await orchestrator.app.coordinator.rebalanceNow();
    assert.equal(orchestrator.app.coordinator.events.recent(50, (e) => e.kind === "instance.suspect").length, 0);
  });
});
