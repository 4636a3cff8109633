import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { AdminClient } from "../helpers/admin-client.js";
import { freePort, spawnOrchestrator, waitForHttp200, type NodeChild } from "../helpers/process.js";
import { queryRows } from "../helpers/test-database.js";
import { waitUntil } from "../helpers/wait.js";
import { seedEmbeddedCluster } from "../helpers/embedded-cluster-template.js";
import { childrenOf, isRunning, postmasterPid } from "../helpers/postgres-cluster.js";

/** Ports of one orchestrator process on its embedded database in `dataDir`. */
async function embeddedEnv(dataDir: string): Promise<Record<string, string>> {
  return {
    DATA_DIR: dataDir,
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    GRPC_PORT: String(await freePort()),
    HTTP_PORT: String(await freePort()),
    BIND_HOST: "127.0.0.1",
  };
}

/** Resolves once `proc` is ready; fails at once, with its output, if it exits first. */
async function ready(proc: NodeChild, httpPort: string, timeoutMs = 40_000): Promise<void> {
  const exited = proc.exited.then(({ code, signal }) => {
    throw new Error(`exited with code ${code} (signal ${signal}) before serving; stderr: ${proc.stderr()} stdout tail: ${proc.stdout().slice(-600)}`);
  });
  await Promise.race([waitForHttp200(`http://127.0.0.1:${httpPort}/readyz`, timeoutMs), exited]);
}

/** How `proc` ended, failing (and killing it) if it is still running after `timeoutMs`. */
async function exitOf(proc: NodeChild, timeoutMs = 40_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      proc.child.kill("SIGKILL");
      reject(new Error(`still running after ${timeoutMs} ms; stderr: ${proc.stderr()}`));
    }, timeoutMs);
  });
  try {
    return (await Promise.race([proc.exited, late])).code;
  } finally {
    clearTimeout(timer);
  }
}

/** Its stderr, which must be exactly one line, without a stack trace. */
function oneLine(proc: NodeChild): string {
  const lines = proc.stderr().trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got: ${proc.stderr()}`);
  assert.doesNotMatch(lines[0]!, /\bat .*\.ts:\d+/, "no stack trace");
  return lines[0]!;
}

// The tests share nothing (folders, ports), so they run side by side; those that need a cluster
// start from a copy of an initialised one (the first start, initdb included, is start-stop's).
describe("the embedded database after a crash, and start-up failures that name their cause", { timeout: 180_000, concurrency: true }, () => {
  const folders: string[] = [];
  const started: NodeChild[] = [];
  const spawn = (env: Record<string, string>) => {
    const proc = spawnOrchestrator(env);
    started.push(proc);
    return proc;
  };
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "finger-recovery-"));
    folders.push(dir);
    return dir;
  };
  const initialisedDir = async () => {
    const dir = tempDir();
    await seedEmbeddedCluster(dir);
    return dir;
  };

  after(async () => {
    for (const proc of started) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
    await Promise.all(started.map((proc) => proc.exited));
    // A postmaster a killed orchestrator left behind: immediate shutdown stops its backends too; SIGKILL if it will not go.
    for (const dir of folders) {
      const pid = postmasterPid(path.join(dir, "postgres"));
      if (pid === undefined || !isRunning(pid)) continue;
      const children = childrenOf(pid);
      process.kill(pid, "SIGQUIT");
      await waitUntil(() => !isRunning(pid), 5_000, `postmaster ${pid} to stop`).catch(() => {
        for (const p of [pid, ...children]) if (isRunning(p)) process.kill(p, "SIGKILL");
      });
    }
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  test("SIGKILL leaves the embedded PostgreSQL running; a restart on the same DATA_DIR stops it, serves again and keeps the data", async () => {
    const dataDir = await initialisedDir();
    const env = await embeddedEnv(dataDir);
    const first = spawn(env);
    await ready(first, env.HTTP_PORT!);
    const admin = new AdminClient(`127.0.0.1:${env.GRPC_PORT}`);
    await admin.upsert([{ id: "kept" }]);
    admin.close();

    const orphan = postmasterPid(path.join(dataDir, "postgres"));
    assert.ok(orphan !== undefined, "the embedded server wrote its postmaster.pid");
    first.child.kill("SIGKILL"); // as the OOM killer does: no handler runs
    await first.exited;
    assert.ok(isRunning(orphan), "the embedded PostgreSQL outlived the orchestrator");

    const second = spawn(env);
    await ready(second, env.HTTP_PORT!);
    assert.equal(isRunning(orphan), false, "the left-over server was stopped");
    assert.notEqual(postmasterPid(path.join(dataDir, "postgres")), orphan);
    const url = `postgres://postgres:finger-embedded@127.0.0.1:${env.EMBEDDED_POSTGRES_PORT}/orchestrator`;
    const rows = await queryRows<{ url: string }>(url, "select url from orchestrator.streams where id = 'kept'");
    assert.equal(rows[0]?.url, "http://radio.example/kept");

    second.child.kill("SIGTERM");
    assert.equal(await exitOf(second), 0, second.stderr());
  });

  test("a DATA_DIR another running orchestrator uses: exit 1 and one line naming it, and the other one's database is left alone", async () => {
    const dataDir = await initialisedDir();
    const env = await embeddedEnv(dataDir);
    const owner = spawn(env);
    await ready(owner, env.HTTP_PORT!);
    const postmaster = postmasterPid(path.join(dataDir, "postgres"))!;

    const intruder = spawn(await embeddedEnv(dataDir));
    assert.equal(await exitOf(intruder), 1, `exit code; stderr: ${intruder.stderr()}`);
    assert.match(oneLine(intruder), new RegExp(`${path.join(dataDir, "postgres")} is in use by PostgreSQL \\(PID ${postmaster}\\) of a running process`));
    assert.ok(isRunning(postmaster));
    assert.equal((await fetch(`http://127.0.0.1:${env.HTTP_PORT}/readyz`)).status, 200);
    owner.child.kill("SIGTERM");
    assert.equal(await exitOf(owner), 0, owner.stderr());
  });

  test("the embedded port held by another program: exit 1 and one line naming the port", async () => {
    const env = await embeddedEnv(await initialisedDir());
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(Number(env.EMBEDDED_POSTGRES_PORT), "127.0.0.1", resolve));
    try {
      const proc = spawn(env);
      assert.equal(await exitOf(proc), 1, `exit code; stderr: ${proc.stderr()}`);
      assert.match(oneLine(proc), new RegExp(`EMBEDDED_POSTGRES_PORT=${env.EMBEDDED_POSTGRES_PORT}: .*in use by another program`));
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  test("a DATA_DIR that is a file: exit 1 and one line naming it", async () => {
    const file = path.join(tempDir(), "not-a-folder");
    writeFileSync(file, "");
    const proc = spawn(await embeddedEnv(file));
    assert.equal(await exitOf(proc), 1, `exit code; stderr: ${proc.stderr()}`);
    assert.match(oneLine(proc), new RegExp(`DATA_DIR=${file} is not a folder`));
  });

  test("a DATA_DIR whose postgres folder holds something else: exit 1 and one line naming it", async () => {
    const dataDir = tempDir();
    mkdirSync(path.join(dataDir, "postgres"));
    writeFileSync(path.join(dataDir, "postgres", "notes.txt"), "not a database");
    const proc = spawn(await embeddedEnv(dataDir));
    assert.equal(await exitOf(proc), 1, `exit code; stderr: ${proc.stderr()}`);
    assert.match(oneLine(proc), new RegExp(`${path.join(dataDir, "postgres")}.*exists but is not empty`));
  });
});
