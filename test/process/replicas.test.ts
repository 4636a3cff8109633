import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status, type ServiceError } from "@grpc/grpc-js";
import type { GetStreamRequest, GetStreamResponse, ListStreamsRequest, ListStreamsResponse } from "../../src/gen/orchestrator/v1/admin.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { RawSession, welcome } from "../helpers/raw-session.js";
import { createTestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator } from "../helpers/test-orchestrator.js";
import { pollUntil } from "../helpers/wait.js";

const replica = (name: string) => ({ LEADER_ELECTION: "replicas", LEADER_LEASE_MS: "3000", ADVERTISE_ADDRESS: `${name}.test:50051` });
const json = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const listStreams = (admin: AdminClient, request: Partial<ListStreamsRequest> = {}) =>
  new Promise<ListStreamsResponse>((resolve, reject) =>
    admin.stub.listStreams({ owner: "", unassignedOnly: false, pageSize: 0, pageToken: "", ...request }, (e: ServiceError | null, r) => (e ? reject(e) : resolve(r))),
  );
const getStream = (admin: AdminClient, request: Partial<GetStreamRequest> & { streamId: string }) =>
  new Promise<GetStreamResponse>((resolve, reject) => admin.stub.getStream({ historyLimit: 0, ...request }, (e: ServiceError | null, r) => (e ? reject(e) : resolve(r))));
const listInstances = (admin: AdminClient) =>
  new Promise<void>((resolve, reject) => admin.stub.listInstances({}, (e: ServiceError | null) => (e ? reject(e) : resolve())));
/** A rejection with this status whose message matches. */
const refused = (code: status, message: RegExp) => (error: unknown) => {
  const e = error as ServiceError;
  assert.equal(e.code, code, `${e.code}: ${e.details}`);
  assert.match(e.details, message);
  return true;
};

describe("two replicas on one database", () => {
  test("one leads, the other stands by (not ready, Connect sent to the leader), and takes over when the leader stops", async () => {
    const database = await createTestDatabase();
    const a = await startTestOrchestrator(replica("a"), database);
    let b: Awaited<ReturnType<typeof startTestOrchestrator>> | undefined;
    try {
      // start() returns once the ports are bound; the election follows at once, in the background.
      assert.ok(await pollUntil(async () => (await json(`${a.httpBase}/readyz`)).status === 200, 15_000), "the first replica leads");
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
      assert.match(ended?.details ?? "", /standby, not the leader; the leader is at a\.test:50051/);
      onStandby.close();

      // The leader welcomes instances.
      const onLeader = new RawSession(a.grpcAddress);
      onLeader.hello({ instanceId: "w1", capacity: 5 });
      await onLeader.waitFor(welcome);
      onLeader.close();

      // The leader stops (releasing its lock): the standby leads, with the next term, within seconds.
      const stoppedAt = performance.now();
      await a.close();
      assert.ok(await pollUntil(async () => (await json(`${b!.httpBase}/readyz`)).status === 200, 10_000), "the standby took over");
      const took = performance.now() - stoppedAt;
      const now = await json(`${b.httpBase}/status`);
      assert.equal(now.body.role, "leader");
      assert.equal(now.body.term, firstTerm + 1);
      assert.equal(now.body.leader_address, "b.test:50051");
      assert.ok(took < 10_000, `took over in ${Math.round(took)} ms`);
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

  test("a standby answers the catalog reads from the database, as the leader does, and refuses writes naming the leader", async () => {
    const database = await createTestDatabase();
    const a = await startTestOrchestrator(replica("a"), database);
    let b: Awaited<ReturnType<typeof startTestOrchestrator>> | undefined;
    const onLeader = new AdminClient(a.grpcAddress);
    let onStandby: AdminClient | undefined;
    let worker: RawSession | undefined;
    try {
      assert.ok(await pollUntil(async () => (await json(`${a.httpBase}/readyz`)).status === 200, 15_000), "the first replica leads");
      b = await startTestOrchestrator(replica("b"), database);
      onStandby = new AdminClient(b.grpcAddress);
      assert.ok(await pollUntil(async () => (await json(`${b!.httpBase}/status`)).body.leader_address === "a.test:50051", 3_000), "the standby learns where the leader is");

      // Through the leader: three streams, one disabled, the others placed on an instance.
      const ids = streamIds(3);
      await onLeader.upsert(ids.map((id) => ({ id, metadata: { cidade: "Recife" } })));
      await onLeader.setEnabled([ids[2]!], false);
      worker = new RawSession(a.grpcAddress).autoAck();
      worker.hello({ instanceId: "w1", capacity: 5 });
      worker.heartbeatEvery(500);
      assert.ok(await pollUntil(() => worker!.owned().size === 2, 5_000), "the instance runs the two enabled streams");

      // The same answers, field for field: ownership, epochs, states, paging, filters and history, read from the tables.
      for (const request of [{ pageSize: 2 }, { owner: "w1" }, { enabled: false }, { unassignedOnly: true }]) {
        const fromLeader = await listStreams(onLeader, request);
        assert.deepEqual(await listStreams(onStandby, request), fromLeader, `ListStreams ${JSON.stringify(request)}`);
        if (fromLeader.nextPageToken) {
          const next = { ...request, pageToken: fromLeader.nextPageToken };
          assert.deepEqual(await listStreams(onStandby, next), await listStreams(onLeader, next), "the next page");
        }
      }
      const page = await listStreams(onStandby, { pageSize: 2 });
      assert.equal(page.totalMatching, 3);
      assert.deepEqual(page.streams.map((s) => [s.id, s.owner, s.epoch > 0]), [[ids[0], "w1", true], [ids[1], "w1", true]]);
      assert.deepEqual(page.streams[0]!.metadata, { cidade: "Recife" });
      const fromLeader = await getStream(onLeader, { streamId: ids[0]!, historyLimit: 5 });
      assert.ok(fromLeader.history.length > 0, "the stream has a history");
      assert.deepEqual(await getStream(onStandby, { streamId: ids[0]!, historyLimit: 5 }), fromLeader);

      // The same checks of bad input, on the tables.
      await assert.rejects(getStream(onStandby, { streamId: "nope" }), refused(status.NOT_FOUND, /stream "nope" not found/));
      await assert.rejects(listStreams(onStandby, { owner: "ghost" }), refused(status.NOT_FOUND, /instance "ghost" not found/));
      await assert.rejects(listStreams(onStandby, { pageSize: 1001 }), refused(status.INVALID_ARGUMENT, /^page_size: must be at most 1000/));

      // Writes and the live fleet stay with the leader; nothing was written.
      const toLeader = /this orchestrator replica is standby, not the leader; the leader is at a\.test:50051/;
      await assert.rejects(onStandby.upsert([{ id: "from-standby" }]), refused(status.UNAVAILABLE, toLeader));
      await assert.rejects(onStandby.setEnabled([ids[0]!], false), refused(status.UNAVAILABLE, toLeader));
      await assert.rejects(listInstances(onStandby), refused(status.UNAVAILABLE, toLeader));
      assert.equal((await listStreams(onLeader)).totalMatching, 3);
      assert.equal((await getStream(onLeader, { streamId: ids[0]! })).stream?.enabled, true);
    } finally {
      worker?.close();
      onLeader.close();
      onStandby?.close();
      await b?.close();
      await a.close().catch(() => undefined);
      await database.drop();
    }
  });

  test("replicas need a shared database", async () => {
    await assert.rejects(startTestOrchestrator({ LEADER_ELECTION: "replicas", DATABASE_URL: "" }), /LEADER_ELECTION=replicas: replicas share one database; set DATABASE_URL or POSTGRES_HOST/);
  });
});
