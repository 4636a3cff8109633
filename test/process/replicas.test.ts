import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { RawSession, welcome } from "../helpers/raw-session.js";
import { createTestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator } from "../helpers/test-orchestrator.js";
import { pollUntil } from "../helpers/wait.js";

const replica = (name: string) => ({ LEADER_ELECTION: "replicas", LEADER_LEASE_MS: "2000", ADVERTISE_ADDRESS: `${name}.test:50051` });
const json = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe("two replicas on one database", () => {
  test("one leads, the other stands by (not ready, Connect sent to the leader), and takes over when the leader stops", async () => {
    const database = await createTestDatabase();
    const a = await startTestOrchestrator(replica("a"), database);
    let b: Awaited<ReturnType<typeof startTestOrchestrator>> | undefined;
    try {
      // start() returns once the ports are bound; the election follows at once, in the background.
      assert.ok(await pollUntil(async () => (await json(`${a.httpBase}/readyz`)).status === 200, 5_000), "the first replica leads");
      b = await startTestOrchestrator(replica("b"), database);
      const leader = await json(`${a.httpBase}/readyz`);
      assert.equal(leader.status, 200);
      assert.equal(leader.body.role, "leader");
      const firstTerm = leader.body.term as number;
      assert.ok(firstTerm >= 1);

      const standby = await json(`${b.httpBase}/readyz`);
      assert.equal(standby.status, 503);
      assert.equal(standby.body.role, "standby");
      assert.equal((await fetch(`${b.httpBase}/healthz`)).status, 200);
      assert.ok(await pollUntil(async () => (await json(`${b!.httpBase}/status`)).body.leader_address === "a.test:50051", 3_000), "the standby learns where the leader is");

      // A Connect on the standby: a go_away naming the leader, then UNAVAILABLE.
      const onStandby = new RawSession(b.grpcAddress);
      onStandby.hello({ instanceId: "w1", capacity: 5 });
      const goAway = await onStandby.waitFor((m) => (m.msg?.$case === "goAway" ? m.msg.value : undefined));
      assert.equal(goAway.leaderAddress, "a.test:50051");
      const ended = await onStandby.ended;
      assert.equal(ended?.code, status.UNAVAILABLE);
      assert.match(ended?.details ?? "", /standby; the leader is at a\.test:50051/);
      onStandby.close();

      // The leader welcomes instances.
      const onLeader = new RawSession(a.grpcAddress);
      onLeader.hello({ instanceId: "w1", capacity: 5 });
      await onLeader.waitFor(welcome);
      onLeader.close();

      // The leader stops (releasing its lock): the standby leads, with the next term, within seconds.
      const stoppedAt = performance.now();
      await a.close();
      assert.ok(await pollUntil(async () => (await json(`${b!.httpBase}/readyz`)).status === 200, 5_000), "the standby took over");
      const took = performance.now() - stoppedAt;
      const now = await json(`${b.httpBase}/status`);
      assert.equal(now.body.role, "leader");
      assert.equal(now.body.term, firstTerm + 1);
      assert.equal(now.body.leader_address, "b.test:50051");
      assert.ok(took < 5_000, `took over in ${Math.round(took)} ms`);
      const onNew = new RawSession(b.grpcAddress);
      onNew.hello({ instanceId: "w1", capacity: 5 });
      await onNew.waitFor(welcome);
      onNew.close();
    } finally {
      await b?.close();
      await a.close().catch(() => undefined);
      await database.drop();
    }
  });

  test("replicas need a shared database", async () => {
    await assert.rejects(startTestOrchestrator({ LEADER_ELECTION: "replicas", DATABASE_URL: "" }), /LEADER_ELECTION=replicas: replicas share one database; set DATABASE_URL or POSTGRES_HOST/);
  });
});
