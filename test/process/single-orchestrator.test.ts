import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createTestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator } from "../helpers/test-orchestrator.js";

describe("a second orchestrator started by mistake against the same database", () => {
  test("refuses to start, naming the cause, and changes nothing; once the first stops, it starts", async () => {
    const database = await createTestDatabase();
    try {
      const first = await startTestOrchestrator({}, database);
      try {
        await assert.rejects(startTestOrchestrator({}, database), {
          name: "StartupError",
          message: /another orchestrator is already running on schema "orchestrator"/,
        });
        // The first one still serves.
        assert.equal((await fetch(`${first.httpBase}/readyz`)).status, 200);
      } finally {
        await first.close();
      }
      const second = await startTestOrchestrator({}, database);
      await second.close();
    } finally {
      await database.drop();
    }
  });

  test("another schema of the same database is another orchestrator", async () => {
    const database = await createTestDatabase();
    try {
      const a = await startTestOrchestrator({}, database);
      const b = await startTestOrchestrator({ DB_SCHEMA: "orchestrator_b" }, database);
      await b.close();
      await a.close();
    } finally {
      await database.drop();
    }
  });
});
