import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { sql } from "kysely";
import { createDatabase, type Db } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database.js";

describe("migrations", () => {
  let database: TestDatabase;
  let db: Db;
  before(async () => {
    database = await createTestDatabase();
    db = createDatabase({ url: database.url, poolSize: 2, statementTimeoutMs: 5_000 }).db;
  });
  after(async () => {
    await db.destroy();
    await database.drop();
  });

  test("apply once, then find nothing left to do", async () => {
    // The users' own legacy table sits in public; ours must not collide with it.
    await sql`create table public.streams (id int primary key, url text, name text, cidade text)`.execute(db);
    const first = await migrateToLatest(db);
    assert.ok(first.length >= 2);
    assert.deepEqual(await migrateToLatest(db), []);
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'orchestrator' order by table_name`.execute(db);
    const names = tables.rows.map((r) => r.table_name);
    for (const t of ["assignments", "events", "instances", "settings", "streams"]) assert.ok(names.includes(t), `${t} in ${names}`);
    const legacy = await sql<{ n: number }>`select count(*)::int as n from information_schema.columns where table_schema = 'public' and table_name = 'streams'`.execute(db);
    assert.equal(legacy.rows[0]!.n, 4, "the users' table is untouched");
  });

  test("a stream can never have two owners, and epochs only grow", async () => {
    await db.insertInto("instances").values([{ id: "a", capacity: 1, labels: {}, status: "connected" }, { id: "b", capacity: 1, labels: {}, status: "connected" }]).execute();
    await db.insertInto("streams").values({ id: "s1", url: "http://radio/1", metadata: {} }).execute();
    const epoch = async () => Number((await sql<{ e: string }>`select nextval('assignment_epoch_seq') as e`.execute(db)).rows[0]!.e);
    const e1 = await epoch();
    await db.insertInto("assignments").values({ stream_id: "s1", instance_id: "a", epoch: e1, state: "active" }).execute();
    await assert.rejects(
      db.insertInto("assignments").values({ stream_id: "s1", instance_id: "b", epoch: await epoch(), state: "active" }).execute(),
      /duplicate key/,
    );
    assert.ok((await epoch()) > e1);
  });

  test("deleting a stream removes its assignment", async () => {
    await db.deleteFrom("streams").where("id", "=", "s1").execute();
    const left = await db.selectFrom("assignments").selectAll().where("stream_id", "=", "s1").execute();
    assert.equal(left.length, 0);
  });

  test("statements are cut off by the configured timeout", async () => {
    const short = createDatabase({ url: database.url, poolSize: 1, statementTimeoutMs: 200 }).db;
    try {
      await assert.rejects(sql`select pg_sleep(2)`.execute(short), /statement timeout/);
    } finally {
      await short.destroy();
    }
  });
});
