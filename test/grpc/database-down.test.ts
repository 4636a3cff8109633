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
import { queryRows } from "../helpers/test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";
import { isRunning, postmasterPid, signalCluster } from "../helpers/postgres-cluster.js";

// The client waits longer than any server-side bound here, so what it sees is the server's answer.
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

describe("admin calls while the database is down or frozen", { timeout: 120_000 }, () => {
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", format: "json" });
  let dataDir: string;
  let port: number;
  let database: EmbeddedDatabase | undefined;
  const running: Array<{ orchestrator: TestOrchestrator; admin: AdminClient }> = [];
  const databaseDir = () => path.join(dataDir, "postgres");
  const startDatabase = async () => {
    database = await startEmbeddedPostgres({ dataDir, port, logger });
    return database;
  };
  /** An orchestrator in this process on database `name` of the cluster, with `env` on top. */
  const startOrchestrator = async (name: string, env: Record<string, string>) => {
    const url = new URL(database!.url);
    if (name !== url.pathname.slice(1)) await queryRows(url.toString(), `create database ${name}`);
    url.pathname = `/${name}`;
    const orchestrator = await startTestOrchestrator({ DATABASE_URL: url.toString(), ...env }, { url: url.toString(), name, drop: async () => undefined });
    const admin = new AdminClient(orchestrator.grpcAddress);
    running.push({ orchestrator, admin });
    return { admin, url: url.toString() };
  };
  /** Streams of `url`'s catalog whose id starts with `prefix`, once no transaction is left open on the server. */
  const rowsOnceSettled = async (url: string, prefix: string) => {
    const open = "select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%'";
    await waitUntil(async () => (await queryRows<{ n: number }>(url, open))[0]!.n === 0, 15_000, "no transaction left open");
    return (await queryRows<{ n: number }>(url, "select count(*)::int as n from orchestrator.streams where starts_with(id, $1)", [prefix]))[0]!.n;
  };
  /** `call` with every process of the cluster stopped (SIGSTOP), continued again whatever happens. */
  const frozen = async <T>(call: () => Promise<T>): Promise<T> => {
    assert.ok(signalCluster(databaseDir(), "SIGSTOP").length > 1, "the postmaster and its backends are frozen");
    try {
      return await call();
    } finally {
      signalCluster(databaseDir(), "SIGCONT");
    }
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "finger-db-down-"));
    port = await freePort();
    await startDatabase();
  });
  after(async () => {
    const pid = postmasterPid(databaseDir());
    if (pid !== undefined && isRunning(pid)) signalCluster(databaseDir(), "SIGCONT");
    for (const { orchestrator, admin } of running) {
      admin.close();
      await orchestrator.close();
    }
    await database?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a stopped database: UNAVAILABLE naming the database after a short retry; the call works once it is back", async () => {
    const { admin } = await startOrchestrator("orchestrator", {});
    assert.equal((await upsert(admin, ["before-stop"])).response?.created, 1);
    await database!.stop();
    database = undefined;

    const refused = await upsert(admin, ["while-stopped"]);
    assert.equal(refused.error?.code, status.UNAVAILABLE, `got ${refused.error?.code}: ${refused.error?.details}`);
    assert.match(refused.error!.details, /the database is unavailable: connect ECONNREFUSED/);
    assert.ok(refused.tookMs < 5_000, `answered after ${refused.tookMs} ms`);

    await startDatabase();
    const back = await upsert(admin, ["after-restart"]);
    assert.equal(back.error, undefined, back.error?.details);
    assert.equal(back.response?.created, 1);
  });

  test("a frozen database: the call's deadline ends it with UNAVAILABLE naming the database; its transaction commits whole or not at all", async () => {
    if (!database) await startDatabase(); // the test above may have failed with it stopped
    // The database's own bounds are longer than the call's, so the call's deadline is what ends it.
    const { admin, url } = await startOrchestrator("deadline", { ADMIN_CALL_TIMEOUT_MS: "3000", DB_STATEMENT_TIMEOUT_MS: "8000", DB_QUERY_TIMEOUT_MS: "9000" });
    const batch = Array.from({ length: 50 }, (_, i) => `frozen-${i}`);
    const result = await frozen(() => upsert(admin, batch));
    assert.equal(result.error?.code, status.UNAVAILABLE, `got ${result.error?.code}: ${result.error?.details}`);
    assert.match(result.error!.details, /UpsertStreams gave up after 3000 ms \(ADMIN_CALL_TIMEOUT_MS\) waiting for .*database/);
    assert.ok(result.tookMs < 3_000 + 2_000, `answered after ${result.tookMs} ms`);

    const thawed = await upsert(admin, ["after-thaw"]);
    assert.equal(thawed.error, undefined, thawed.error?.details);
    assert.equal(thawed.response?.created, 1);
    // The timed-out call went on after the thaw: all of its rows or none, never some.
    const n = await rowsOnceSettled(url, "frozen-");
    assert.ok(n === 0 || n === batch.length, `${n} of ${batch.length} rows of the timed-out call were written`);
  });

  test("a frozen database: the client-side query timeout fails the call with UNAVAILABLE, and its transaction never commits", async () => {
    if (!database) await startDatabase();
    const { admin, url } = await startOrchestrator("querytimeout", { ADMIN_CALL_TIMEOUT_MS: "10000", DB_STATEMENT_TIMEOUT_MS: "1000", DB_QUERY_TIMEOUT_MS: "1500" });
    // Calls side by side first, so that the pool holds open connections and the frozen call waits on a query, not on connecting.
    const warm = await Promise.all([1, 2, 3, 4].map((i) => upsert(admin, [`warm-${i}`])));
    assert.deepEqual(warm.map((w) => w.error), [undefined, undefined, undefined, undefined]);
    const result = await frozen(() => upsert(admin, ["timed-out-1", "timed-out-2"]));
    assert.equal(result.error?.code, status.UNAVAILABLE, `got ${result.error?.code}: ${result.error?.details}`);
    assert.match(result.error!.details, /the database is unavailable: the database did not answer within 1500 ms/);
    assert.ok(result.tookMs < 1_500 + 2_500, `answered after ${result.tookMs} ms`);

    const thawed = await upsert(admin, ["after-thaw"]);
    assert.equal(thawed.error, undefined, thawed.error?.details);
    // Its connection was closed, never reused: the server rolled the transaction back once it ran again.
    assert.equal(await rowsOnceSettled(url, "timed-out-"), 0);
  });
});
