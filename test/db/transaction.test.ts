import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Db } from "../../src/db/database.js";
import { inTransaction } from "../../src/db/transaction.js";
import { migratedTestDatabase } from "../helpers/test-database.js";

describe("transactions are all or nothing, and transient failures are retried", () => {
  let db: Db;
  let close: () => Promise<void>;
  before(async () => {
    ({ db, close } = await migratedTestDatabase());
  });
  after(() => close());

  const count = async () => (await db.selectFrom("streams").select("id").execute()).length;

  test("a serialization failure after a write is retried and commits exactly once", async () => {
    let attempts = 0;
    await inTransaction(db, async (trx) => {
      attempts++;
      await trx.insertInto("streams").values({ id: "retried", url: "http://radio.example/r", metadata: {} }).execute();
      if (attempts === 1) throw Object.assign(new Error("could not serialize access"), { code: "40001" });
    });
    assert.equal(attempts, 2);
    assert.equal(await count(), 1);
  });

  test("a non-transient failure is not retried and leaves nothing behind", async () => {
    let attempts = 0;
    await assert.rejects(
      inTransaction(db, async (trx) => {
        attempts++;
        await trx.insertInto("streams").values({ id: "half", url: "http://radio.example/h", metadata: {} }).execute();
        await trx.insertInto("assignments").values({ stream_id: "half", instance_id: "no-such-instance", epoch: 1 }).execute();
      }),
      /foreign key/,
    );
    assert.equal(attempts, 1);
    assert.equal(await count(), 1, "the stream row of the failed transaction is gone");
  });
});
