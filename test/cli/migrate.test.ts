import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { freePort, runScript, type ScriptResult } from "../helpers/process.js";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database.js";

function runMigrate(env: Record<string, string>): Promise<ScriptResult> {
  return runScript("src/cli/migrate.ts", [], { LOG_FORMAT: "json", ...env });
}

// The two runs share nothing (the second has no database at all), so they run side by side.
describe("npm run migrate", { concurrency: true }, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.drop();
  });

  test("creates the schema on an empty database, then finds nothing to do", async () => {
    const first = await runMigrate({ DATABASE_URL: database.url });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /migrations applied/);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'orchestrator' order by 1",
      );
      for (const name of ["assignments", "events", "instances", "streams"]) {
        assert.ok(tables.rows.some((r) => r.table_name === name), `table ${name}`);
      }
    } finally {
      await client.end();
    }
    const second = await runMigrate({ DATABASE_URL: database.url });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already up to date/);
  });

  test("an unreachable database fails with one line naming it, password hidden", async () => {
    const port = await freePort();
    const result = await runMigrate({ DATABASE_URL: `postgres://u:secret@127.0.0.1:${port}/x`, DB_CONNECT_TIMEOUT_MS: "1000" });
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^finger-orchestrator migrate: migration failed: database postgres:\/\/u:\*+@127\.0\.0\.1:\d+\/x unreachable/);
    assert.doesNotMatch(result.stderr, /secret/);
  });
});
