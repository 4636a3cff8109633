import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useRawFleet } from "../helpers/raw-fleet.js";
import { RawSession } from "../helpers/raw-session.js";
import { waitUntil } from "../helpers/wait.js";

// The rules (epochs, stale holdings, shares, joins, capacities, rate limits) are
// tested on the in-memory store in test/coordinator/ownership.test.ts; this is the
// README's "one owner per stream" end to end, over gRPC and PostgreSQL.

/**
 * Resolves once the orchestrator answered a heartbeat sent now: it handles a
 * session's messages in order and writes its replies in order, so everything
 * it had sent this session before is received by then.
 */
async function roundTrip(session: RawSession, seq: number): Promise<void> {
  session.send({ $case: "heartbeat", value: { runningStreams: 0, seq } });
  await session.waitFor((m) => (m.msg?.$case === "heartbeatAck" && m.msg.value.seq === seq ? true : undefined));
}

describe("one owner per stream, end to end", () => {
  const fleet = useRawFleet({}, 10);

  test("a move sends remove, then add only after the ack, and the assignments table has the fresh larger epochs", async () => {
    const { orchestrator } = fleet;
    const db = orchestrator.app.db;
    // Acknowledged by hand, to hold the revocation open.
    const slow = new RawSession(orchestrator.grpcAddress);
    try {
      slow.hello({ instanceId: "slow", capacity: 10 });
      await waitUntil(() => slow.owned().size === 10, 2_000, "slow to get everything");
      slow.send({ $case: "ack", value: { seq: slow.assignments().at(-1)!.seq } });
      const before = slow.owned();

      const fresh = fleet.open("fresh", 10);
      const revocation = await slow.waitFor((m) => (m.msg?.$case === "assignment" && m.msg.value.remove.length ? m.msg.value : undefined));
      assert.equal(revocation.remove.length, 5);
      assert.deepEqual(revocation.add, []);
      // A round meanwhile must not grant them either; the round trip shows what fresh was sent by then.
      await orchestrator.app.coordinator.rebalanceNow();
      await roundTrip(fresh, 1);
      assert.equal(fresh.owned().size, 0, "nothing may be added before the old owner acknowledged");
      const rows = await db.selectFrom("assignments").select(["stream_id", "instance_id", "state"]).execute();
      const revoking = rows.filter((r) => r.state === "revoking" && r.instance_id === "slow").map((r) => r.stream_id);
      assert.deepEqual(revoking.sort(), [...revocation.remove].sort());

      slow.send({ $case: "ack", value: { seq: revocation.seq } });
      await waitUntil(() => fresh.owned().size === 5, 1_000, "fresh to get the revoked streams within 1 s of the ack");
      assert.deepEqual([...fresh.owned().keys()].sort(), [...revocation.remove].sort());

      const after = await db.selectFrom("assignments").select(["stream_id", "instance_id", "epoch", "state"]).execute();
      assert.equal(new Set(after.map((r) => r.stream_id)).size, 10, "one row per stream");
      assert.equal(after.length, 10);
      for (const row of after.filter((r) => r.instance_id === "fresh")) {
        assert.equal(row.epoch, fresh.owned().get(row.stream_id), `${row.stream_id}: the epoch fresh was sent`);
        assert.ok(row.epoch > before.get(row.stream_id)!, `${row.stream_id}: ${row.epoch} > ${before.get(row.stream_id)}`);
        assert.equal(row.state, "active");
      }
      assert.equal(after.filter((r) => r.instance_id === "fresh").length, 5);
    } finally {
      slow.close();
    }
  });
});
