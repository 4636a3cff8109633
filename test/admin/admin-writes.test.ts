import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DynamicClient } from "../helpers/dynamic-client.js";
import { RawSession } from "../helpers/raw-session.js";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

describe("AdminService writes, discovered through reflection", () => {
  let database: TestDatabase;
  let orchestrator: TestOrchestrator;
  let admin: DynamicClient;
  let instance: RawSession;

  before(async () => {
    database = await createTestDatabase();
    orchestrator = await startTestOrchestrator({}, database);
    admin = await DynamicClient.connect(orchestrator.grpcAddress, "orchestrator.v1.AdminService");
    instance = new RawSession(orchestrator.grpcAddress).autoAck();
    instance.hello({ instanceId: "w", capacity: 5 });
  });
  after(async () => {
    instance.close();
    admin.close();
    await orchestrator.close();
    await database.drop();
  });

  test("UpsertStreams, SetStreamsEnabled and DeleteStreams change what the instance runs", async () => {
    const created = await admin.call("UpsertStreams", { streams: [{ id: "x", url: "icy://radio.example/x" }, { id: "y", url: "https://radio.example/y" }] });
    assert.deepEqual(created, { created: 2 });
    await waitUntil(() => instance.owned().size === 2, 1_000, "both to run");

    assert.deepEqual(await admin.call("SetStreamsEnabled", { stream_ids: ["x", "ghost"], enabled: false }), { changed: 1, notFound: ["ghost"] });
    await waitUntil(() => !instance.owned().has("x"), 1_000, "x to stop");
    const x = await admin.call("GetStream", { stream_id: "x" });
    assert.equal((x.stream as { state: string }).state, "STREAM_STATE_DISABLED");
    assert.deepEqual(await admin.call("SetStreamsEnabled", { stream_ids: ["x"], enabled: false }), {}, "already disabled: nothing changed");
    // Upserting without `enabled` (a re-import) keeps the operator's disable.
    assert.deepEqual(await admin.call("UpsertStreams", { streams: [{ id: "x", url: "icy://radio.example/x2" }] }), { updated: 1 });
    const renamed = await admin.call("GetStream", { stream_id: "x" });
    assert.equal((renamed.stream as { state: string }).state, "STREAM_STATE_DISABLED");
    assert.equal((renamed.stream as { url: string }).url, "icy://radio.example/x2");

    await admin.call("SetStreamsEnabled", { stream_ids: ["x"], enabled: true });
    await waitUntil(() => instance.owned().has("x"), 1_000, "x to run again");

    assert.deepEqual(await admin.call("DeleteStreams", { stream_ids: ["y"] }), { deleted: 1 });
    await waitUntil(() => !instance.owned().has("y"), 1_000, "y to stop");
  });

  test("a freeze survives an orchestrator restart, and UnfreezeRebalancing lifts it", async () => {
    await admin.call("FreezeRebalancing", { reason: "deploy" });
    admin.close();
    instance.close();
    await orchestrator.close();
    orchestrator = await startTestOrchestrator({}, database);
    admin = await DynamicClient.connect(orchestrator.grpcAddress, "orchestrator.v1.AdminService");
    instance = new RawSession(orchestrator.grpcAddress).autoAck();
    instance.hello({ instanceId: "w", capacity: 5 });
    assert.equal((await admin.call("GetStatus", {})).rebalancingFrozen, true);
    assert.deepEqual(await admin.call("UnfreezeRebalancing", {}), { wasFrozen: true });
    assert.deepEqual(await admin.call("UnfreezeRebalancing", {}), {});
    assert.equal((await admin.call("GetStatus", {})).rebalancingFrozen, undefined);
  });
});
