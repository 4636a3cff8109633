import { after, before, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { SourceTableSync } from "../../src/sync/source-table-sync.js";
import { AdminClient } from "../helpers/admin-client.js";
import { RawSession } from "../helpers/raw-session.js";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

/**
 * Counts finished sync passes, so that a test sees the sync go on (and change nothing)
 * instead of sleeping and hoping it ran. Returns a wait for `n` more passes to finish;
 * one in flight may have read the table before the change, so n passes include n - 1 after it.
 */
function countSyncPasses(): (n: number) => Promise<number> {
  let done = 0;
  const pass = SourceTableSync.prototype.pass;
  mock.method(SourceTableSync.prototype, "pass", async function (this: SourceTableSync) {
    try {
      return await pass.call(this);
    } finally {
      done++;
    }
  });
  return (n) => {
    const target = done + n;
    return waitUntil(() => done >= target, 3_000, `${n} more sync passes`);
  };
}

describe("following the users' own streams table (STREAMS_SOURCE_TABLE)", () => {
  let database: TestDatabase;
  let users: pg.Client;
  let orchestrator: TestOrchestrator;
  let instance: RawSession;
  const syncPasses = countSyncPasses();

  before(async () => {
    database = await createTestDatabase();
    users = new pg.Client({ connectionString: database.url });
    await users.connect();
    // The legacy table, as their workers know it, in public.
    await users.query(`create table public.streams (
      id serial primary key, url text not null, name text, sheet text, cidade text, estado text, regiao text, segmento text, "index" int)`);
    await users.query(`insert into public.streams (url, name, cidade, estado, "index") values
      ('https://radio.example/a', 'Radio A', 'Recife', 'PE', 1),
      ('https://radio.example/b', 'Radio B', 'Natal', 'RN', 2),
      ('not a url', 'Broken', null, null, 3)`);
    orchestrator = await startTestOrchestrator({ STREAMS_SOURCE_TABLE: "public.streams", STREAMS_SYNC_INTERVAL_MS: "200" }, database);
    instance = new RawSession(orchestrator.grpcAddress).autoAck();
    instance.hello({ instanceId: "worker", capacity: 10 });
  });
  after(async () => {
    instance.close();
    await orchestrator.close();
    await users.end();
    await database.drop();
  });

  const catalog = () => orchestrator.app.coordinator.view.catalog;

  test("rows are in the catalog at start-up, shaped like an import; a bad row is skipped", async () => {
    assert.deepEqual([...catalog().keys()].sort(), ["1", "2"]);
    assert.deepEqual(catalog().get("1")!.metadata, { cidade: "Recife", estado: "PE", index: "1" });
    await waitUntil(() => instance.owned().size === 2, 2_000, "the worker to run both");
    const source = await orchestrator.app.db.selectFrom("streams").select(["id", "source"]).execute();
    assert.ok(source.every((r) => r.source === "table"));
  });

  test("inserts, updates and deletes in the users' table are followed within a few seconds", async () => {
    await users.query(`insert into public.streams (url, name) values ('https://radio.example/d', 'Radio D')`);
    await waitUntil(() => instance.owned().has("4"), 3_000, "the inserted row to run");

    const epoch = instance.owned().get("1");
    await users.query(`update public.streams set url = 'https://radio.example/a2' where id = 1`);
    await waitUntil(() => catalog().get("1")?.url === "https://radio.example/a2", 3_000, "the update");
    await instance.waitFor((m) => (m.msg?.$case === "assignment" && m.msg.value.add.some((s) => s.url.endsWith("/a2")) ? true : undefined));
    assert.equal(instance.owned().get("1"), epoch, "same owner, same epoch, restarted with the new URL");

    await users.query(`delete from public.streams where id = 2`);
    await waitUntil(() => !instance.owned().has("2") && !catalog().has("2"), 3_000, "the delete");
  });

  test("a row the users' writers hold locked does not block the sync", async () => {
    const writer = new pg.Client({ connectionString: database.url });
    await writer.connect();
    await writer.query("begin");
    await writer.query(`update public.streams set name = 'being edited' where id = 1`);
    try {
      await users.query(`insert into public.streams (url, name) values ('https://radio.example/e', 'Radio E')`);
      await waitUntil(() => catalog().has("5"), 3_000, "the sync to go on despite the open transaction");
    } finally {
      await writer.query("rollback");
      await writer.end();
    }
  });

  test("a stream an operator disabled stays disabled although the table has no enabled column", async () => {
    const admin = new AdminClient(orchestrator.grpcAddress);
    try {
      await admin.setEnabled(["1"], false);
      await waitUntil(() => catalog().get("1")?.enabled === false && !instance.owned().has("1"), 2_000, "stream 1 to stop");
      // Passes every 200 ms; a change to the row itself must not bring the flag back either.
      await users.query(`update public.streams set name = 'Radio A renamed' where id = 1`);
      await waitUntil(() => catalog().get("1")?.name === "Radio A renamed", 3_000, "the rename");
      await syncPasses(3);
      assert.equal(catalog().get("1")?.enabled, false);
      assert.ok(!instance.owned().has("1"));
      await admin.setEnabled(["1"], true);
      await waitUntil(() => instance.owned().has("1"), 3_000, "stream 1 to run again once enabled");
    } finally {
      admin.close();
    }
  });

  test("streams created through the admin API are left alone", async () => {
    const admin = new AdminClient(orchestrator.grpcAddress);
    await admin.upsert([{ id: "api-only", url: "https://radio.example/api" }]);
    admin.close();
    await syncPasses(3);
    assert.ok(catalog().has("api-only"), "not deleted by the sync although absent from the table");
  });
});

describe("a missing source table", () => {
  test("stops start-up with a clear reason", async () => {
    await assert.rejects(startTestOrchestrator({ STREAMS_SOURCE_TABLE: "public.nope" }), /STREAMS_SOURCE_TABLE=public\.nope cannot be read: .*does not exist/);
  });
});
