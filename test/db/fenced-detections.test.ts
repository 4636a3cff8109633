import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { InstanceRecord } from "../../src/coordinator/store-port.js";
import type { Db } from "../../src/db/database.js";
import { writeRound } from "../../src/db/round-repository.js";
import { upsertStreams } from "../../src/db/streams-repository.js";
import { migratedTestDatabase, type TestDatabase } from "../helpers/test-database.js";
import { sleep } from "../helpers/wait.js";

const instance = (id: string): InstanceRecord => ({ id, capacity: 5, labels: {}, version: "", state: "connected", draining: false, sessionId: null, registeredAt: null, connectedAt: null, lastSeenAt: null, returnBy: null, metrics: null });
const grant = async (db: Db, streamId: string, instanceId: string) =>
  (await writeRound(db, { instances: [instance(instanceId)], releases: [], grants: [{ streamId, instanceId }], revocations: [], events: [] })).get(streamId)!;

/** A worker's connection: its own database role, only EXECUTE on holds() and its own table. */
async function worker(url: string, role: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`set role ${role}`);
  return client;
}

/** What the package documents for any driver: the write only happens while the instance holds the stream at that epoch. */
const record = (c: pg.Client, stream: string, owner: string, epoch: number, song: string) =>
  c.query("insert into radio.music_log (stream_id, instance_id, song) select $1, $2, $4 where orchestrator.holds($1, $2, $3)", [stream, owner, epoch, song]);

describe("fenced detections: orchestrator.holds(stream, instance, epoch)", () => {
  let database: TestDatabase;
  let db: Db;
  let close: () => Promise<void>;
  const role = `finger_worker_${randomBytes(4).toString("hex")}`;
  const admin = () => new pg.Client({ connectionString: database.url });

  before(async () => {
    ({ database, db, close } = await migratedTestDatabase());
    await upsertStreams(db, ["s1", "s2"].map((id) => ({ id, url: `http://radio.example/${id}`, name: id, metadata: {} })));
    const c = admin();
    await c.connect();
    // The users' own table, and a worker role with no right on the orchestrator's tables.
    await c.query(`create schema radio; create table radio.music_log (id serial primary key, stream_id text, instance_id text, song text)`);
    await c.query(`create role ${role}; grant usage on schema radio to ${role}; grant insert, select on radio.music_log to ${role}; grant usage on sequence radio.music_log_id_seq to ${role}`);
    await c.query(`grant usage on schema orchestrator to ${role}`);
    await c.end();
  });
  after(async () => {
    const c = admin();
    await c.connect();
    await c.query(`drop schema radio cascade; revoke all on schema orchestrator from ${role}; revoke all on function orchestrator.holds(text, text, bigint) from ${role}`).catch(() => undefined);
    await c.end();
    await close();
    const server = new pg.Client({ connectionString: database.url });
    await server.connect();
    await server.query(`drop role if exists ${role}`).catch(() => undefined);
    await server.end();
  });

  test("a role needs EXECUTE on it; with it, and no right on the orchestrator's tables, it answers for the owner at its epoch only", async () => {
    const epoch = await grant(db, "s1", "w-old");
    const w = await worker(database.url, role);
    try {
      await assert.rejects(w.query("select orchestrator.holds('s1', 'w-old', $1)", [epoch]), /permission denied for function holds/);
      await assert.rejects(w.query("select * from orchestrator.assignments"), /permission denied/);
      const c = admin();
      await c.connect();
      await c.query(`grant execute on function orchestrator.holds(text, text, bigint) to ${role}`);
      await c.end();
      const holds = async (s: string, i: string, e: number) => (await w.query<{ h: boolean }>("select orchestrator.holds($1, $2, $3) as h", [s, i, e])).rows[0]!.h;
      assert.equal(await holds("s1", "w-old", epoch), true);
      assert.equal(await holds("s1", "w-old", epoch - 1), false, "an older epoch");
      assert.equal(await holds("s1", "w-other", epoch), false, "another instance");
      assert.equal(await holds("s2", "w-old", epoch), false, "a stream nobody holds");
    } finally {
      await w.end();
    }
  });

  test("a grant to another instance waits for a fenced write under way; after it the old epoch writes nothing and the new one does: nothing lost, nothing twice", async () => {
    const first = await grant(db, "s1", "w-old");
    const old = await worker(database.url, role);
    const next = await worker(database.url, role);
    try {
      await old.query("begin");
      assert.equal((await record(old, "s1", "w-old", first, "before the handover")).rowCount, 1);
      // The orchestrator grants s1 to w-new (the old owner is cut off) while that write is not committed yet.
      let second: number | undefined;
      const handover = grant(db, "s1", "w-new").then((e) => (second = e));
      await sleep(300);
      assert.equal(second, undefined, "the grant waits for the worker's transaction");
      await old.query("commit");
      await handover;
      assert.ok(second! > first);

      assert.equal((await record(old, "s1", "w-old", first, "after the handover, old owner")).rowCount, 0, "the old epoch is refused");
      assert.equal((await record(next, "s1", "w-new", second!, "after the handover, new owner")).rowCount, 1);
      const { rows } = await old.query<{ song: string; instance_id: string }>("select song, instance_id from radio.music_log where stream_id = 's1' order by id");
      assert.deepEqual(rows.slice(-2), [
        { song: "before the handover", instance_id: "w-old" },
        { song: "after the handover, new owner", instance_id: "w-new" },
      ]);
    } finally {
      await old.end();
      await next.end();
    }
  });

  test("a write after the stream was released (its row deleted) is refused", async () => {
    const epoch = await grant(db, "s2", "w-old");
    await writeRound(db, { instances: [], releases: [{ streamId: "s2", instanceId: "w-old" }], grants: [], revocations: [], events: [] });
    const w = await worker(database.url, role);
    try {
      assert.equal((await record(w, "s2", "w-old", epoch, "after release")).rowCount, 0);
    } finally {
      await w.end();
    }
  });
});
