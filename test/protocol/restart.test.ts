import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { fullAssignment, RawSession } from "../helpers/raw-session.js";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

const ENV = { HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "2000", RECONNECT_GRACE_MS: "500" };

// The README's "state survives restarts", end to end: a real orchestrator stops and a new
// one starts on the same PostgreSQL. The rules themselves (nothing moves while an instance
// may come back, one that stays away loses its streams on the tick its lease ends) are
// tested on the in-memory store with a clock the test moves: test/coordinator/restart.test.ts.
describe("an orchestrator restart on the same database keeps the assignment", () => {
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
  const rows = async () =>
    new Map(
      (await orchestrator.app.db.selectFrom("assignments").select(["stream_id", "instance_id", "epoch", "state"]).execute()).map((r) => [
        r.stream_id,
        `${r.instance_id}@${r.epoch} ${r.state}`,
      ]),
    );

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    for (const s of sessions) s.close();
    await orchestrator?.close();
    await database.drop();
  });

  test("instances that come back keep their streams and epochs, one still away keeps its rows, and epochs go on growing", async () => {
    orchestrator = await startTestOrchestrator(ENV, database);
    let admin = new AdminClient(orchestrator.grpcAddress);
    await admin.upsert(streamIds(12).map((id) => ({ id })));
    admin.close();
    const [a, b, c] = [open(orchestrator, "a"), open(orchestrator, "b"), open(orchestrator, "c")];
    await waitUntil(() => a.owned().size === 4 && b.owned().size === 4 && c.owned().size === 4, 3_000, "4/4/4");
    const held = { a: a.owned(), b: b.owned(), c: c.owned() };
    await orchestrator.app.coordinator.settled();
    const rowsBefore = await rows();

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

    // The rounds the two hellos asked for have run (instead of sleeping through c's lease):
    // they moved nothing, and c's rows are still there for it to come back to.
    await orchestrator.app.coordinator.settled();
    assert.equal(a2.assignments().length + b2.assignments().length, 2, "only the two full sets, zero moves");
    assert.deepEqual(await rows(), rowsBefore);
    const events = await orchestrator.app.db.selectFrom("events").select("kind").where("at", ">=", restartedAt).where("kind", "=", "stream.assigned").execute();
    assert.equal(events.length, 0);
    assert.equal(orchestrator.app.coordinator.view.instance("c")?.state, "disconnected", "c may still come back");

    // The epoch sequence survived too: a grant after the restart is larger than every grant before it.
    admin = new AdminClient(orchestrator.grpcAddress);
    await admin.upsert([{ id: "after-restart" }]);
    admin.close();
    await waitUntil(() => a2.owned().has("after-restart") || b2.owned().has("after-restart"), 1_000, "the new stream to be granted");
    const epoch = a2.owned().get("after-restart") ?? b2.owned().get("after-restart")!;
    const largestBefore = Math.max(...[held.a, held.b, held.c].flatMap((m) => [...m.values()]));
    assert.ok(epoch > largestBefore, `epoch ${epoch} after the restart, ${largestBefore} before`);
  });
});
