import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fullAssignment, RawSession } from "../helpers/raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { sleep, waitUntil } from "../helpers/wait.js";

describe("heartbeats", () => {
  let orchestrator: TestOrchestrator;
  before(async () => {
    orchestrator = await startTestOrchestrator({ HEARTBEAT_INTERVAL_MS: "200", LEASE_TTL_MS: "1000", LAST_SEEN_PERSIST_MS: "500" });
  });
  after(() => orchestrator.close());

  test("a heartbeat with a seq is acknowledged with that seq", async () => {
    const session = new RawSession(orchestrator.grpcAddress);
    session.hello({ instanceId: "asking", capacity: 1 });
    await session.waitFor(fullAssignment);
    session.send({ $case: "heartbeat", value: { runningStreams: 0, seq: 41 } });
    session.send({ $case: "heartbeat", value: { runningStreams: 0, seq: 42 } });
    const acks = await session.waitFor(() => {
      const seqs = session.received.flatMap((r) => (r.msg?.$case === "heartbeatAck" ? [r.msg.value.seq] : []));
      return seqs.length === 2 ? seqs : undefined;
    });
    assert.deepEqual(acks, [41, 42]);
    session.close();
  });

  test("keep the lease, and their metrics reach the database (batching is counted by npm run bench:database)", async () => {
    const session = new RawSession(orchestrator.grpcAddress);
    session.hello({ instanceId: "beating", capacity: 1 });
    await session.waitFor(fullAssignment);
    const timer = setInterval(
      () =>
        session.send({
          $case: "heartbeat",
          value: { runningStreams: 0, seq: 0, metrics: { cpuPercent: 12.5, memoryPercent: 40, loadAverage: [0.5, 0.4, 0.3] } },
        }),
      100,
    );
    try {
      // Three leases long: the instance stays connected only because heartbeats renew it.
      await sleep(3_000);
      const entry = orchestrator.app.coordinator.view.instance("beating")!;
      assert.equal(entry.state, "connected");
      await waitUntil(
        async () => {
          const row = await orchestrator.app.db.selectFrom("instances").selectAll().where("id", "=", "beating").executeTakeFirst();
          return row?.metrics?.cpu_percent === 12.5 && Date.now() - (row.last_seen_at?.getTime() ?? 0) < 2_000;
        },
        2_000,
        "metrics and last_seen_at in the database",
      );
      const row = await orchestrator.app.db.selectFrom("instances").select("metrics").where("id", "=", "beating").executeTakeFirstOrThrow();
      assert.deepEqual(row.metrics, { cpu_percent: 12.5, memory_percent: 40, load_average: [0.5, 0.4, 0.3] });
      assert.equal(
        session.received.filter((m) => m.msg?.$case === "heartbeatAck").length,
        0,
        "heartbeats without a seq get no answer",
      );
    } finally {
      clearInterval(timer);
      session.close();
    }
  });
});
