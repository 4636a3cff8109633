import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import type { InstanceClient } from "../../src/client/index.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { DynamicClient } from "../helpers/dynamic-client.js";
import { ledgerClient, StreamRunLog } from "../helpers/fleet-of-clients.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

describe("AdminService reads, discovered through reflection", () => {
  let orchestrator: TestOrchestrator;
  let admin: DynamicClient;
  const clients: InstanceClient[] = [];

  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return [(e as { code: number }).code, (e as { details: string }).details] as const;
    }
    throw new Error("expected the call to fail");
  };

  before(async () => {
    orchestrator = await startTestOrchestrator({ HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "1500" });
    const stub = new AdminClient(orchestrator.grpcAddress);
    await stub.upsert(streamIds(7).map((id) => ({ id, metadata: { cidade: "Recife" } })));
    await stub.upsert([{ id: "off", enabled: false }]);
    stub.close();
    const ledger = new StreamRunLog();
    clients.push(ledgerClient(ledger, orchestrator.grpcAddress, "a", 2), ledgerClient(ledger, orchestrator.grpcAddress, "b", 3));
    for (const c of clients) c.start();
    await waitUntil(() => clients[0]!.running().size === 2 && clients[1]!.running().size === 3, 3_000, "a 2, b 3");
    admin = await DynamicClient.connect(orchestrator.grpcAddress, "orchestrator.v1.AdminService");
  });
  after(async () => {
    admin.close();
    await Promise.all(clients.map((c) => c.close()));
    await orchestrator.close();
  });

  test("GetStatus counts instances, capacity and streams as they are", async () => {
    const s = await admin.call("GetStatus", {});
    assert.deepEqual(s.instances, { total: 2, connected: 2 });
    assert.equal(s.totalCapacity, 5);
    assert.deepEqual(s.streams, { total: 8, enabled: 7, assigned: 5, unassigned: 2 });
    assert.equal(s.loadPercentage, 100);
    assert.equal(s.role, "leader");
    assert.ok(Number(s.movesLastMinute) >= 5);
    assert.match(String(s.startedAt), /^\d{4}-\d\d-\d\dT/);
  });

  test("ListInstances and GetInstance show state, share, streams and epochs", async () => {
    const list = await admin.call("ListInstances", {});
    const instances = list.instances as Array<Record<string, unknown>>;
    assert.deepEqual(instances.map((i) => [i.id, i.state, i.capacity, i.assigned, i.fairShare]), [
      ["a", "INSTANCE_STATE_CONNECTED", 2, 2, 2],
      ["b", "INSTANCE_STATE_CONNECTED", 3, 3, 3],
    ]);
    const one = await admin.call("GetInstance", { instance_id: "b" });
    const streams = one.streams as Array<{ streamId: string; epoch: string }>;
    assert.equal(streams.length, 3);
    assert.deepEqual(new Set(streams.map((s) => s.streamId)), new Set(clients[1]!.running().keys()));
    for (const s of streams) assert.equal(Number(s.epoch), clients[1]!.running().get(s.streamId)!.epoch);
  });

  test("ListStreams filters and paginates in id order", async () => {
    const unassigned = await admin.call("ListStreams", { unassigned_only: true });
    assert.equal(unassigned.totalMatching, 2);
    const disabled = await admin.call("ListStreams", { enabled: false });
    assert.deepEqual((disabled.streams as Array<{ id: string; state: string }>).map((s) => [s.id, s.state]), [["off", "STREAM_STATE_DISABLED"]]);
    const owned = await admin.call("ListStreams", { owner: "a" });
    assert.equal(owned.totalMatching, 2);

    const seen: string[] = [];
    let token = "";
    do {
      const page = await admin.call("ListStreams", { page_size: 3, page_token: token });
      seen.push(...(page.streams as Array<{ id: string }>).map((s) => s.id));
      token = String(page.nextPageToken ?? "");
    } while (token);
    assert.deepEqual(seen, [...streamIds(7), "off"].sort());
  });

  test("ListStreams refuses a page_token no page handed out", async () => {
    // Not base64url; base64url of bytes that are not UTF-8; base64url of an id no stream can have.
    for (const token of ["garbage!!", "_w", Buffer.from("\u0001").toString("base64url")]) {
      const [c, d] = await code(admin.call("ListStreams", { page_token: token }));
      assert.equal(c, status.INVALID_ARGUMENT, token);
      assert.equal(d, "page_token: is not a token from a previous page");
    }
  });

  test("GetStream shows owner, epoch and history", async () => {
    const owned = [...clients[0]!.running().values()][0]!;
    const r = await admin.call("GetStream", { stream_id: owned.id });
    const stream = r.stream as Record<string, unknown>;
    assert.equal(stream.owner, "a");
    assert.equal(Number(stream.epoch), owned.epoch);
    assert.equal(stream.state, "STREAM_STATE_ASSIGNED");
    const history = r.history as Array<{ kind: string; instanceId: string }>;
    assert.ok(history.some((e) => e.kind === "stream.assigned" && e.instanceId === "a"), JSON.stringify(history));
  });

  test("unknown ids are NOT_FOUND and bad fields INVALID_ARGUMENT naming the field", async () => {
    assert.deepEqual(await code(admin.call("GetInstance", { instance_id: "ghost" })), [status.NOT_FOUND, 'instance "ghost" not found']);
    assert.equal((await code(admin.call("GetStream", { stream_id: "ghost" })))[0], status.NOT_FOUND);
    assert.equal((await code(admin.call("DrainInstance", { instance_id: "ghost" })))[0], status.NOT_FOUND);
    assert.equal((await code(admin.call("ListStreams", { owner: "ghost" })))[0], status.NOT_FOUND);
    const [c, d] = await code(admin.call("ListStreams", { page_size: 5000 }));
    assert.equal(c, status.INVALID_ARGUMENT);
    assert.match(d, /page_size: must be at most 1000/);
    assert.match((await code(admin.call("GetInstance", { instance_id: "" })))[1], /instance_id: must not be empty/);
    assert.match((await code(admin.call("FreezeRebalancing", { duration_seconds: 10_000_000 })))[1], /duration_seconds: must be at most/);
    assert.match((await code(admin.call("SetStreamsEnabled", { stream_ids: [] })))[1], /stream_ids: must not be empty/);
  });
});
