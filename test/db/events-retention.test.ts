import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Db } from "../../src/db/database.js";
import { EventsPruner } from "../../src/db/events-retention.js";
import { insertEvents } from "../../src/db/round-repository.js";
import { createLogger } from "../../src/log/logger.js";
import { migratedTestDatabase } from "../helpers/test-database.js";

const DAY = 86_400_000;
const NOW = Date.parse("2026-12-01T00:00:00Z");

describe("the audit log's retention", () => {
  let db: Db;
  let close: () => Promise<void>;
  before(async () => {
    ({ db, close } = await migratedTestDatabase());
  });
  after(() => close());

  const kinds = async () => (await db.selectFrom("events").select("kind").orderBy("id").execute()).map((r) => r.kind);

  test("prunes only what is older than the retention, in batches, oldest first", async () => {
    // 25 events 40 days old, 3 at 29 days, 2 today.
    const at = (daysAgo: number) => new Date(NOW - daysAgo * DAY);
    await insertEvents(db, [
      ...Array.from({ length: 25 }, (_, i) => ({ kind: `old.${i}`, at: at(40) })),
      ...Array.from({ length: 3 }, () => ({ kind: "recent", at: at(29) })),
      { kind: "today", at: at(0) },
      { kind: "today", at: at(0) },
    ]);
    const pruner = new EventsPruner(db, { retentionDays: 30, batch: 10 }, createLogger({ level: "silent", format: "json" }));
    assert.equal(await pruner.pruneNow(NOW), 25, "three batches of at most 10");
    assert.deepEqual(await kinds(), ["recent", "recent", "recent", "today", "today"]);
    assert.equal(await pruner.pruneNow(NOW), 0, "nothing more to do");
  });

  test("0 keeps events forever: start() schedules nothing", async () => {
    const pruner = new EventsPruner(db, { retentionDays: 0 }, createLogger({ level: "silent", format: "json" }));
    pruner.start();
    await pruner.stop();
    assert.equal((await kinds()).length, 5);
  });
});
