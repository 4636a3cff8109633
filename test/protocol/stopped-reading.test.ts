import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status, type ServiceError } from "@grpc/grpc-js";
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";
import type { AuditEvent } from "../../src/coordinator/types.js";
import { InstanceState } from "../../src/gen/orchestrator/v1/admin.js";
import { ConnectResponse } from "../../src/gen/orchestrator/v1/orchestrator.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { fullAssignment, RawSession } from "../helpers/raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

const HEARTBEAT = 400;
const LEASE = 1_500;
const GRACE = 300;
// Small, but above the largest single message the healthy instance gets (100 streams of
// about 1.1 kB each, when it takes over the stopped one's share).
const LIMIT = 512 * 1024;
const STREAMS = 200;
const ids = streamIds(STREAMS, "big");
/** Streams of about 1.1 kB encoded, so that each catalog change sends a lot. */
const specs = (round: number) => ids.map((id) => ({ id, metadata: { round: String(round), blob: "x".repeat(1_000) } }));

/**
 * An instance that stops reading (its process hangs, its receive window stays
 * full) while the orchestrator has a lot to tell it: the session ends once
 * more than SESSION_QUEUE_LIMIT_BYTES would wait for it, as a broken
 * connection, and nothing changes for an instance that reads.
 */
describe("an instance that stops reading is ended once its outbound queue passes the limit", () => {
  let orchestrator: TestOrchestrator;
  let admin: AdminClient;
  let stuck: RawSession;
  let healthy: RawSession;
  /** When each assignment reached the healthy instance (ms since epoch). */
  const healthyLog: Array<{ at: number; message: ConnectResponse }> = [];
  let healthyEnded: ServiceError | null | "open" = "open";
  const sessionEnds: AuditEvent[] = [];

  before(async () => {
    orchestrator = await startTestOrchestrator({
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT),
      LEASE_TTL_MS: String(LEASE),
      RECONNECT_GRACE_MS: String(GRACE),
      SESSION_QUEUE_LIMIT_BYTES: String(LIMIT),
    });
    orchestrator.app.coordinator.events.on("event", (e) => {
      if (e.kind === "instance.disconnected" || e.kind === "instance.left") sessionEnds.push(e);
    });
    admin = new AdminClient(orchestrator.grpcAddress);
    healthy = new RawSession(orchestrator.grpcAddress).autoAck();
    healthy.call.on("data", (message: ConnectResponse) => healthyLog.push({ at: Date.now(), message }));
    void healthy.ended.then((e) => (healthyEnded = e));
    healthy.heartbeatEvery(100);
    healthy.hello({ instanceId: "healthy", capacity: STREAMS });
    stuck = new RawSession(orchestrator.grpcAddress);
    stuck.heartbeatEvery(100);
    stuck.hello({ instanceId: "stuck", capacity: STREAMS });
    await Promise.all([healthy.waitFor(fullAssignment), stuck.waitFor(fullAssignment)]);
  });
  after(async () => {
    stuck.close();
    healthy.close();
    admin.close();
    await orchestrator.close();
  });

  test("RESOURCE_EXHAUSTED, disconnected (not left), its streams move after grace and lease, the healthy instance unaffected", async () => {
    // It still sends heartbeats, so its lease stays fresh: only the queue can end it.
    stuck.call.pause();
    await admin.upsert(specs(0));
    await waitUntil(() => healthy.owned().size === STREAMS / 2, 5_000, () => `the healthy instance to run half, it runs ${healthy.owned().size}`);
    const stuckShare = (await admin.getInstance("stuck")).streams.map((s) => s.streamId);
    assert.equal(stuckShare.length, STREAMS / 2);

    // Every change restarts each stream on its owner: ~110 kB more for each instance.
    let changes = 0;
    let ended: ServiceError | null | undefined;
    void stuck.ended.then((e) => (ended = e));
    while (ended === undefined && changes < 40) await admin.upsert(specs(++changes));
    await waitUntil(() => ended !== undefined, 5_000, `the stuck session to end after ${changes} catalog changes`);
    const endedAt = Date.now();
    assert.equal(ended?.code, status.RESOURCE_EXHAUSTED, `ended with ${ended?.code} ${ended?.details}`);

    // A broken connection keeps its streams for the grace and until the lease is over.
    const during = await admin.getInstance("stuck");
    assert.equal(during.instance?.state, InstanceState.INSTANCE_STATE_DISCONNECTED);
    assert.deepEqual(during.streams.map((s) => s.streamId).sort(), [...stuckShare].sort(), "it keeps its streams meanwhile");
    const lastSeen = during.instance!.lastSeen!.getTime();
    assert.deepEqual(sessionEnds.map((e) => [e.kind, e.instanceId]), [["instance.disconnected", "stuck"]]);
    assert.match(String(sessionEnds[0]!.detail?.cause), /SESSION_QUEUE_LIMIT_BYTES=524288.*stopped reading/);

    await waitUntil(() => healthy.owned().size === STREAMS, LEASE + 3_000, () => `the healthy instance to take over, it runs ${healthy.owned().size}`);
    const moves = healthyLog.filter((e) => !isRestart(e.message) && e.message.msg?.$case === "assignment" && e.message.msg.value.add.some((s) => stuckShare.includes(s.id)));
    const firstMove = Math.min(...moves.map((e) => e.at));
    assert.ok(firstMove >= endedAt + GRACE - 50, `moved ${firstMove - endedAt} ms after the end`);
    assert.ok(firstMove >= lastSeen + LEASE, `moved ${firstMove - lastSeen} ms after it was last heard from`);
    assert.ok(firstMove < lastSeen + LEASE + leaseMarginMs(LEASE) + 1_500, `moved ${firstMove - lastSeen} ms after it was last heard from`);
    assert.equal((await admin.getInstance("stuck")).instance?.state, InstanceState.INSTANCE_STATE_DEAD);

    // The healthy instance read everything, was never disconnected, and is still connected.
    assert.equal(healthyEnded, "open");
    assert.equal((await admin.getInstance("healthy")).instance?.state, InstanceState.INSTANCE_STATE_CONNECTED);
    const restarts = healthyLog.filter((e) => isRestart(e.message)).map((e) => ConnectResponse.encode(e.message).finish().byteLength);
    assert.equal(restarts.length, changes, "the healthy instance got every change");
    // What counts is what waits unread, not what was sent: the healthy instance got far more
    // than the limit, and the stuck one was not ended before its unread changes could pass it
    // (each was about as large as the healthy instance's, and the transport takes some too).
    const sent = restarts.reduce((a, b) => a + b, 0);
    assert.ok(sent > 2 * LIMIT, `the healthy instance got ${sent} bytes of changes`);
    assert.ok(changes * Math.max(...restarts) > LIMIT, `the stuck one ended after ${changes} changes of at most ${Math.max(...restarts)} bytes`);

    const metrics = await (await fetch(`${orchestrator.httpBase}/metrics`)).text();
    assert.match(metrics, /^finger_sessions_queue_overflow_total 1$/m);
  });
});

/** A catalog change restarting streams on their owner: they are removed and added in one message. */
function isRestart(message: ConnectResponse): boolean {
  return message.msg?.$case === "assignment" && message.msg.value.remove.length > 0 && message.msg.value.add.length > 0;
}
