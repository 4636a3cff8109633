import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { AdminClient } from "../helpers/admin-client.js";
import { fullAssignment, RawSession } from "../helpers/raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";

describe("the catalog drives the schedule", () => {
  let orchestrator: TestOrchestrator;
  let admin: AdminClient;
  let instance: RawSession;

  before(async () => {
    orchestrator = await startTestOrchestrator();
    admin = new AdminClient(orchestrator.grpcAddress);
    instance = new RawSession(orchestrator.grpcAddress);
    instance.hello({ instanceId: "solo", capacity: 50 });
    await instance.waitFor(fullAssignment);
  });
  after(async () => {
    instance.close();
    admin.close();
    await orchestrator.close();
  });

  const added = (id: string) => (m: Parameters<Parameters<RawSession["waitFor"]>[0]>[0]) =>
    m.msg?.$case === "assignment" && !m.msg.value.full ? m.msg.value.add.find((s) => s.id === id) : undefined;
  const removed = (id: string) => (m: Parameters<Parameters<RawSession["waitFor"]>[0]>[0]) =>
    m.msg?.$case === "assignment" && m.msg.value.remove.includes(id) ? m.msg.value : undefined;

  // What instances are told for each kind of change is tested on the in-memory store
  // (test/coordinator/catalog.test.ts); this checks the chain end to end: the admin API's
  // answers, the rows in PostgreSQL, and the coordinator's reaction reaching a real session.
  test("catalog changes through the admin API reach the instance over gRPC within 1 s", async () => {
    let started = Date.now();
    const response = await admin.upsert([{ id: "radio-1", url: "https://radio.example/one.mp3", name: "One", metadata: { cidade: "Recife" } }]);
    assert.deepEqual(response, { created: 1, updated: 0, unchanged: 0 });
    const stream = await instance.waitFor(added("radio-1"), 1_000);
    assert.ok(Date.now() - started < 1_000);
    assert.equal(stream.url, "https://radio.example/one.mp3");
    assert.deepEqual(stream.metadata, { cidade: "Recife" });
    assert.ok(stream.epoch > 0);

    const same = await admin.upsert([{ id: "radio-1", url: "https://radio.example/one.mp3", name: "One", metadata: { cidade: "Recife" } }]);
    assert.deepEqual(same, { created: 0, updated: 0, unchanged: 1 });

    await admin.upsert([{ id: "radio-2" }, { id: "radio-3" }]);
    await instance.waitFor(added("radio-3"), 1_000);
    started = Date.now();
    await admin.upsert([{ id: "radio-2", enabled: false }]);
    await instance.waitFor(removed("radio-2"), 1_000);
    assert.ok(Date.now() - started < 1_000);
    started = Date.now();
    const deleted = await admin.delete(["radio-3", "never-existed"]);
    assert.deepEqual(deleted, { deleted: 1, notFound: ["never-existed"] });
    await instance.waitFor(removed("radio-3"), 1_000);
    assert.ok(Date.now() - started < 1_000);
    const rows = await orchestrator.app.db.selectFrom("assignments").select("stream_id").execute();
    assert.deepEqual(rows.map((r) => r.stream_id), ["radio-1"]);
  });

  test("a bad stream fails the whole batch with INVALID_ARGUMENT naming the field", async () => {
    const count = async () => (await orchestrator.app.db.selectFrom("streams").select("id").execute()).length;
    const before = await count();
    await assert.rejects(
      admin.upsert([{ id: "fine" }, { id: "bad", url: "ftp://radio.example/x" }]),
      (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && /streams\[1\]\.url: scheme must be one of http, https/.test(e.details),
    );
    await assert.rejects(admin.upsert([{ id: "" }]), /streams\[0\]\.id: must not be empty/);
    await assert.rejects(admin.upsert([{ id: "d" }, { id: "d" }]), /streams\[1\]: duplicate id "d"/);
    await assert.rejects(admin.upsert([]), /streams: must not be empty/);
    await assert.rejects(admin.upsert([{ id: "x", url: "not a url" }]), /streams\[0\]\.url: must be an absolute URL/);
    await assert.rejects(admin.delete([""]), /stream_ids\[0\]: must not be empty/);
    assert.equal(await count(), before, "nothing written");
  });
});
