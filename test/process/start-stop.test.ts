import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { credentials } from "@grpc/grpc-js";
import pg from "pg";
import { HealthCheckResponse_ServingStatus, HealthClient } from "../../src/gen/grpc/health/v1/health.js";
import { ReflectionClient } from "../helpers/reflection-client.js";
import { freePort, spawnOrchestrator, waitForHttp200, type NodeChild } from "../helpers/process.js";
import { waitUntil } from "../helpers/wait.js";

// The two groups share nothing (ports, folders), so they run side by side; the first one's tests
// build on each other, so they run in turn (subtests would inherit the concurrency).
describe("the orchestrator as a process", { concurrency: true }, () => {
  describe("on its embedded database", { concurrency: false }, () => {
    let dataDir: string;
    let env: Record<string, string>;
    let pgPort: number;
    // Every process a test starts: one that failed half-way must not stay running on the same folder and ports.
    const started: NodeChild[] = [];
    const stopAll = () => Promise.all(started.map((proc) => proc.stop(10_000)));
    const start = async () => {
      await stopAll();
      const proc = spawnOrchestrator(env);
      started.push(proc);
      return proc;
    };

    before(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), "finger-proc-"));
      pgPort = await freePort();
      env = {
        DATA_DIR: dataDir,
        EMBEDDED_POSTGRES_PORT: String(pgPort),
        GRPC_PORT: String(await freePort()),
        HTTP_PORT: String(await freePort()),
        BIND_HOST: "127.0.0.1",
      };
    });
    after(async () => {
      // SIGTERM first: a killed orchestrator would leave its PostgreSQL behind.
      await stopAll();
      rmSync(dataDir, { recursive: true, force: true });
    });

    async function stop(proc: NodeChild): Promise<number> {
      const sent = Date.now();
      proc.child.kill("SIGTERM");
      const { code, at } = await proc.exited;
      assert.equal(code, 0, `exit code; stderr: ${proc.stderr()}`);
      return at - sent;
    }

    // The first start initialises the embedded cluster (initdb): about 6 s on an idle 2-core machine,
    // more than 15 s while the rest of the suite shares its cores, hence 30 s here.
    test("starts with no configuration, serves within 30 s, stops on SIGTERM with exit 0 within 10 s", async () => {
      const running = await start();
      const base = `http://127.0.0.1:${env.HTTP_PORT}`;
      await waitForHttp200(`${base}/health`, 30_000, running);
      for (const p of ["/healthz", "/readyz", "/health"]) assert.equal((await fetch(base + p)).status, 200, p);

      const health = new HealthClient(`127.0.0.1:${env.GRPC_PORT}`, credentials.createInsecure());
      const status = await new Promise<number>((resolve, reject) =>
        health.check({ service: "" }, (e, r) => (e ? reject(e) : resolve(r.status))),
      );
      health.close();
      assert.equal(status, HealthCheckResponse_ServingStatus.SERVING);

      const reflection = new ReflectionClient(`127.0.0.1:${env.GRPC_PORT}`);
      assert.ok((await reflection.listServices()).includes("orchestrator.v1.OrchestratorService"));
      reflection.close();

      assert.match(running.stdout(), /using embedded PostgreSQL/);
      // Leave a row behind to find after the restart.
      const client = new pg.Client({ connectionString: `postgres://postgres:finger-embedded@127.0.0.1:${pgPort}/orchestrator` });
      await client.connect();
      await client.query(`insert into orchestrator.streams (id, url) values ('kept', 'http://radio.example/kept')`);
      await client.end();

      const took = await stop(running);
      assert.ok(took < 10_000, `stopped in ${took} ms`);
    });

    test("a restart keeps the data", async () => {
      const running = await start();
      await waitForHttp200(`http://127.0.0.1:${env.HTTP_PORT}/readyz`, 30_000, running);
      const client = new pg.Client({ connectionString: `postgres://postgres:finger-embedded@127.0.0.1:${pgPort}/orchestrator` });
      await client.connect();
      const rows = await client.query(`select url from orchestrator.streams where id = 'kept'`);
      await client.end();
      assert.equal(rows.rows[0]?.url, "http://radio.example/kept");
      await stop(running);
    });

    test("SIGTERM while starting: exit 0, and the embedded database is stopped with it", async () => {
      const proc = await start();
      // The embedded server is starting: stop as soon as it says so, before anything serves.
      await waitUntil(() => /using embedded PostgreSQL|migrations up to date/.test(proc.stdout()), 30_000, "start-up to say it is starting the database", 2);
      await stop(proc);
      assert.doesNotMatch(proc.stdout(), /orchestrator serving/, "the signal came after start-up had finished");
      // Nothing answers on the database port any more.
      const client = new pg.Client({ connectionString: `postgres://postgres:finger-embedded@127.0.0.1:${pgPort}/orchestrator`, connectionTimeoutMillis: 1_000 });
      await assert.rejects(client.connect(), /ECONNREFUSED/);
    });
  });

  describe("configuration mistakes stop start-up with one clear line", { concurrency: true }, () => {
    test("GRPC_PORT=abc", async () => {
      const proc = spawnOrchestrator({ GRPC_PORT: "abc" });
      const { code } = await proc.exited;
      assert.equal(code, 1);
      const lines = proc.stderr().trim().split("\n");
      assert.equal(lines.length, 1, proc.stderr());
      assert.match(lines[0]!, /GRPC_PORT="abc": must be a port number/);
      assert.doesNotMatch(proc.stderr(), /\bat .*\.ts:\d+/, "no stack trace");
    });

    test("an unreachable database", async () => {
      const port = await freePort();
      const proc = spawnOrchestrator({
        DATABASE_URL: `postgres://user:secret@127.0.0.1:${port}/nowhere`,
        DB_CONNECT_TIMEOUT_MS: "1000",
        GRPC_PORT: String(await freePort()),
        HTTP_PORT: String(await freePort()),
      });
      const { code } = await proc.exited;
      assert.equal(code, 1);
      const lines = proc.stderr().trim().split("\n");
      assert.equal(lines.length, 1, proc.stderr());
      assert.match(lines[0]!, /database .*127\.0\.0\.1.* unreachable: .*ECONNREFUSED/);
      assert.doesNotMatch(proc.stderr(), /secret/);
    });
  });
});
