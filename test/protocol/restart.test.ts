import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { fullAssignment, RawSession } from "../helpers/raw-session.js";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { sleep, waitUntil } from "../helpers/wait.js";

const ENV = { HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "2000", RECONNECT_GRACE_MS: "500" };

describe("an orchestrator restart reassigns nothing by itself", () => {
  let database: TestDatabase;
  let orchestrator: TestOrchestrator;
  const sessions: RawSession[] = [];
  const open = (o: TestOrchestrator, id: string, held: Map<string, number> = new Map()) => {
    const s = new RawSession(o.grpcAddress).autoAck();
    s.hello({ instanceId: id, capacity: 20, held: [...held].map(([streamId, epoch]) => ({ streamId, epoch })) });
    s.heartbeatEvery(200);
    sessions.push(s);
    return s;
  };

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    for (const s of sessions) s.close();
    await orchestrator?.close();
    await database.drop();
  });

  test("instances that come back keep their streams and epochs; one that stays away loses them after its lease", async () => {
    orchestrator = await startTestOrchestrator(ENV, database);
    const admin = new AdminClient(orchestrator.grpcAddress);
    await admin.upsert(streamIds(12).map((id) => ({ id })));
    admin.close();
    const [a, b, c] = [open(orchestrator, "a"), open(orchestrator, "b"), open(orchestrator, "c")];
    await waitUntil(() => a.owned().size === 4 && b.owned().size === 4 && c.owned().size === 4, 3_000, "4/4/4");
    const held = { a: a.owned(), b: b.owned(), c: c.owned() };

    await orchestrator.app.stop();
    for (const s of [a, b, c]) {
      const ended = await s.ended;
      assert.equal(ended?.code, status.UNAVAILABLE, "shutdown ends sessions with UNAVAILABLE");
      assert.ok(s.received.some((m) => m.msg?.$case === "goAway"), "and a go_away first");
    }

    const restartedAt = new Date();
    orchestrator = await startTestOrchestrator(ENV, database);
    const a2 = open(orchestrator, "a", held.a);
    const b2 = open(orchestrator, "b", held.b);
    const fullA = await a2.waitFor(fullAssignment);
    const fullB = await b2.waitFor(fullAssignment);
    assert.deepEqual(new Map(fullA.add.map((s) => [s.id, s.epoch])), held.a);
    assert.deepEqual(new Map(fullB.add.map((s) => [s.id, s.epoch])), held.b);

    // c stays away: nothing moves while its lease could still be renewed.
    await sleep(1_000);
    assert.equal(a2.assignments().length + b2.assignments().length, 2, "only the two full sets, zero moves");
    const events = await orchestrator.app.db.selectFrom("events").select("kind").where("at", ">=", restartedAt).where("kind", "=", "stream.assigned").execute();
    assert.equal(events.length, 0);

    // After its lease, c's four streams are split between a and b.
    await waitUntil(() => a2.owned().size + b2.owned().size === 12, 2_000 + 1_500, "c's streams to move");
    for (const [id, epoch] of held.c) {
      const now = a2.owned().get(id) ?? b2.owned().get(id);
      assert.ok(now !== undefined && now > epoch, `${id} regranted with a larger epoch`);
    }
  });
});
