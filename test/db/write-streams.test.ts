import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Db } from "../../src/db/database.js";
import { writeStreams, type StreamInput } from "../../src/db/streams-repository.js";
import { inTransaction } from "../../src/db/transaction.js";
import { migratedTestDatabase } from "../helpers/test-database.js";

describe("writeStreams and the enabled flag", () => {
  let db: Db;
  let close: () => Promise<void>;
  before(async () => {
    ({ db, close } = await migratedTestDatabase());
  });
  after(() => close());

  const write = (streams: StreamInput[]) => inTransaction(db, (trx) => writeStreams(trx, streams, "table"));
  const row = (id: string) => db.selectFrom("streams").select(["url", "enabled"]).where("id", "=", id).executeTakeFirstOrThrow();
  const base = { name: "r", metadata: {} };

  test("absent: a new stream starts enabled, an existing one keeps the flag it has when written", async () => {
    await write([{ id: "r", url: "https://radio.example/r1", ...base }]);
    assert.deepEqual(await row("r"), { url: "https://radio.example/r1", enabled: true });
    // An operator disables it after the writer read the row, before it writes.
    await db.updateTable("streams").set({ enabled: false }).where("id", "=", "r").execute();
    await write([{ id: "r", url: "https://radio.example/r2", ...base }]);
    assert.deepEqual(await row("r"), { url: "https://radio.example/r2", enabled: false });
  });

  test("given: the flag is written, and a disabled stream loses its assignment", async () => {
    await write([{ id: "g", url: "https://radio.example/g", ...base, enabled: true }]);
    await db.insertInto("instances").values({ id: "i", capacity: 1, labels: {} }).execute();
    await db.insertInto("assignments").values({ stream_id: "g", instance_id: "i", epoch: 1 }).execute();
    await write([{ id: "g", url: "https://radio.example/g", ...base, enabled: false }]);
    assert.equal((await row("g")).enabled, false);
    assert.equal((await db.selectFrom("assignments").select("stream_id").where("stream_id", "=", "g").execute()).length, 0);
  });
});
