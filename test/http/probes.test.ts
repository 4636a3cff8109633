import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";

async function get(url: string, method = "GET"): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { method });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("HTTP probes", () => {
  let orchestrator: TestOrchestrator;
  before(async () => {
    orchestrator = await startTestOrchestrator();
  });
  after(() => orchestrator.close());

  test("/healthz, /readyz and /health answer 200 when serving", async () => {
    assert.equal((await get(`${orchestrator.httpBase}/healthz`)).status, 200);
    const ready = await get(`${orchestrator.httpBase}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, "ready");
    const health = await get(`${orchestrator.httpBase}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "healthy");
    assert.equal(health.body.database, "ok");
    assert.equal(health.body.grpc, "SERVING");
  });

  test("readiness and /health turn 503 with a reason when gRPC is not serving", async () => {
    orchestrator.app.health.set("NOT_SERVING");
    try {
      const health = await get(`${orchestrator.httpBase}/health`);
      assert.equal(health.status, 503);
      assert.equal(health.body.status, "unhealthy");
      assert.match(String(health.body.reason), /gRPC is NOT_SERVING/);
      assert.equal((await get(`${orchestrator.httpBase}/readyz`)).status, 503);
      assert.equal((await get(`${orchestrator.httpBase}/healthz`)).status, 200, "liveness does not depend on readiness");
    } finally {
      orchestrator.app.health.set("SERVING");
    }
  });

  test("unknown paths get a JSON 404 and other methods a 405", async () => {
    const missing = await get(`${orchestrator.httpBase}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, "not found");
    const post = await get(`${orchestrator.httpBase}/health`, "POST");
    assert.equal(post.status, 405);
  });
});

describe("HTTP probes without a database", () => {
  test("/health is 503 naming the database when it cannot be reached", async () => {
    const orchestrator = await startTestOrchestrator();
    try {
      // Kill every connection of this database and forbid new ones.
      const { default: pg } = await import("pg");
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`alter database ${orchestrator.database.name} with allow_connections false`);
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [orchestrator.database.name]);
      const health = await get(`${orchestrator.httpBase}/health`);
      assert.equal(health.status, 503);
      assert.equal(health.body.status, "unhealthy");
      assert.match(String(health.body.reason), /database unreachable/);
      await admin.query(`alter database ${orchestrator.database.name} with allow_connections true`);
      await admin.end();
    } finally {
      await orchestrator.close();
    }
  });
});
