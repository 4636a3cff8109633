import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded-postgres.js";
import type { UpsertStreamsResponse } from "../../src/gen/orchestrator/v1/admin.js";
import { createLogger } from "../../src/log/logger.js";
import { freePort } from "../../src/net/free-port.js";
import { AdminClient } from "../helpers/admin-client.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";

const CLIENT_DEADLINE_MS = 12_000;

/** The outcome of one UpsertStreams call and how long it took. */
async function upsert(admin: AdminClient, ids: string[]): Promise<{ error?: ServiceError; response?: UpsertStreamsResponse; tookMs: number }> {
  const started = Date.now();
  const streams = ids.map((id) => ({ id, url: `http://radio.example/${id}`, name: id, metadata: {} }));
  return new Promise((resolve) =>
    admin.stub.upsertStreams({ streams }, new Metadata(), { deadline: Date.now() + CLIENT_DEADLINE_MS }, (error, response) =>
      resolve({ error: error ?? undefined, response, tookMs: Date.now() - started }),
    ),
  );
}

describe("admin calls while the database is down", { timeout: 90_000 }, () => {
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", format: "json" });
  let dataDir: string;
  let port: number;
  let database: EmbeddedDatabase | undefined;
  let orchestrator: TestOrchestrator;
  let admin: AdminClient;
  const startDatabase = async () => {
    database = await startEmbeddedPostgres({ dataDir, port, logger });
    return database;
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "finger-db-down-"));
    port = await freePort();
    const { url } = await startDatabase();
    orchestrator = await startTestOrchestrator(
      {
        DATABASE_URL: url,
      },
      { url, name: "orchestrator", drop: async () => undefined },
    );
    admin = new AdminClient(orchestrator.grpcAddress);
  });
  after(async () => {
    admin?.close();
    await orchestrator?.close();
    await database?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a stopped database: UNAVAILABLE naming the database after a short retry; the call works once it is back", async () => {
    assert.equal((await upsert(admin, ["before-stop"])).response?.created, 1);
    await database!.stop();
    database = undefined;

    const refused = await upsert(admin, ["while-stopped"]);
    assert.equal(refused.error?.code, status.UNAVAILABLE, `got ${refused.error?.code}: ${refused.error?.details}`);
    assert.match(refused.error!.details, /database is unavailable/);
    assert.ok(refused.tookMs < 5_000, `answered after ${refused.tookMs} ms`);

    await startDatabase();
    const back = await upsert(admin, ["after-restart"]);
    assert.equal(back.error, undefined, back.error?.details);
    assert.equal(back.response?.created, 1);
  });
});
