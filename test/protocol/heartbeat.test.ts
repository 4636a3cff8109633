import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fullAssignment, RawSession } from "../helpers/raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

// Leases, metrics and the periodic last-seen flush are tested on the in-memory
// store in test/coordinator/heartbeat.test.ts; here, what needs gRPC and PostgreSQL.

describe("heartbeats, end to end", () => {
  let orchestrator: TestOrchestrator;
  before(async () => {
    orchestrator = await startTestOrchestrator({ LAST_SEEN_PERSIST_MS: "500" });
  });
  after(() => orchestrator.close());

  const heartbeatAcks = (session: RawSession) => session.received.flatMap((r) => (r.msg?.$case === "heartbeatAck" ? [r.msg.value.seq] : []));

  test("a heartbeat with a seq is acknowledged with that seq, one without gets no answer", async () => {
    const session = new RawSession(orchestrator.grpcAddress);
    try {
      session.hello({ instanceId: "asking", capacity: 1 });
      await session.waitFor(fullAssignment);
      session.send({ $case: "heartbeat", value: { runningStreams: 0, seq: 0 } });
      session.send({ $case: "heartbeat", value: { runningStreams: 0, seq: 41 } });
      session.send({ $case: "heartbeat", value: { runningStreams: 0, seq: 0 } });
      session.send({ $case: "heartbeat", value: { runningStreams: 0, seq: 42 } });
      // Answers come in order: once 42's is in, one for a seq-less heartbeat would be too.
      await session.waitFor(() => (heartbeatAcks(session).includes(42) ? true : undefined));
      assert.deepEqual(heartbeatAcks(session), [41, 42]);
    } finally {
      session.close();
    }
  });

  test("metrics and last_seen_at reach the instances table", async () => {
    const session = new RawSession(orchestrator.grpcAddress);
    try {
      session.hello({ instanceId: "beating", capacity: 1 });
      await session.waitFor(fullAssignment);
      const sent = Date.now();
      session.send({
        $case: "heartbeat",
        value: { runningStreams: 0, seq: 0, metrics: { cpuPercent: 12.5, memoryPercent: 40, loadAverage: [0.5, 0.4, 0.3] } },
      });
      // The row itself is written by the round the hello asked for, which may land after the full set.
      const row = () => orchestrator.app.db.selectFrom("instances").select(["metrics", "last_seen_at"]).where("id", "=", "beating").executeTakeFirst();
      // The first flush after the heartbeat writes it (a flush runs every second).
      await waitUntil(async () => ((await row())?.metrics ?? null) !== null, 2_000, "metrics in the database");
      const written = (await row())!;
      assert.deepEqual(written.metrics, { cpu_percent: 12.5, memory_percent: 40, load_average: [0.5, 0.4, 0.3] });
      assert.ok(written.last_seen_at!.getTime() >= sent - 50, `last_seen_at ${written.last_seen_at?.toISOString()} is the heartbeat's`);
    } finally {
      session.close();
    }
  });
});
