import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { ConnectRequest } from "../../src/gen/orchestrator/v1/orchestrator.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { RawSession } from "../helpers/raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { sleep, waitUntil } from "../helpers/wait.js";

/**
 * A Connect call over bare HTTP/2 that sends but never reads: unlike a grpc-js
 * client, which keeps reading into memory, it stops HTTP/2 flow control.
 */
function deafSession(address: string): { send(msg: ConnectRequest["msg"]): void; close(): void } {
  const session = http2.connect(`http://${address}`);
  session.on("error", () => undefined);
  const stream = session.request({
    ":method": "POST",
    ":path": "/orchestrator.v1.OrchestratorService/Connect",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => undefined);
  stream.pause();
  return {
    send(msg) {
      const body = ConnectRequest.encode({ msg }).finish();
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      stream.write(frame);
    },
    close() {
      session.destroy();
    },
  };
}

describe("an instance that heartbeats but reads nothing", () => {
  let orchestrator: TestOrchestrator;
  before(async () => {
    orchestrator = await startTestOrchestrator({ HEARTBEAT_INTERVAL_MS: "200", LEASE_TTL_MS: "1000", RECONNECT_GRACE_MS: "500" });
    const admin = new AdminClient(orchestrator.grpcAddress);
    // A full set well beyond HTTP/2's flow-control window, so what follows it queues up here.
    const url = `https://radio.example/${"x".repeat(400)}`;
    await admin.upsert(streamIds(600).map((id) => ({ id, url: `${url}/${id}` })));
    admin.close();
  });
  after(() => orchestrator.close());

  test("is ended after a lease of not reading, and its streams move", async () => {
    const deaf = deafSession(orchestrator.grpcAddress);
    deaf.send({ $case: "hello", value: { instanceId: "deaf", capacity: 1_000, held: [], labels: {}, version: "test" } });
    let seq = 0;
    const beat = setInterval(() => deaf.send({ $case: "heartbeat", value: { runningStreams: 0, seq: ++seq } }), 50);
    try {
      const entry = () => orchestrator.app.coordinator.fleet.instances.get("deaf");
      await waitUntil(() => orchestrator.app.coordinator.fleet.ownedBy("deaf").size === 600, 3_000, "the streams to be its own");
      await sleep(500);
      assert.equal(entry()?.liveness, "connected", "still connected within the lease, heartbeats keep coming");
      await waitUntil(() => entry()?.liveness !== "connected", 3_000, "the session to be ended although it heartbeats");
      const reading = new RawSession(orchestrator.grpcAddress).autoAck();
      reading.hello({ instanceId: "reading", capacity: 1_000 });
      reading.heartbeatEvery(100);
      await waitUntil(() => reading.owned().size === 600, 5_000, "its streams to move to an instance that reads");
      const kinds = orchestrator.app.coordinator.events.recent(100, (e) => e.instanceId === "deaf").map((e) => e.kind);
      assert.ok(kinds.includes("instance.disconnected"), kinds.join(", "));
      reading.close();
    } finally {
      clearInterval(beat);
      deaf.close();
    }
  });
});
