/**
 * The worker skeleton of clients/python/README.md (clients/python/examples/worker_skeleton.py),
 * run as it is against a real orchestrator, so that the README's skeleton cannot rot: it reads
 * its configuration, receives its streams, starts one asyncio task per stream, cancels a
 * revoked stream's task before acknowledging, and on SIGTERM cancels them all and leaves to
 * return.
 *
 * The package is imported from its source tree here; python-package.test.ts installs it with
 * pip as users do. Needs Debian's python3-grpcio and python3-protobuf.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { projectRoot } from "../helpers/process.js";
import { PythonInstance } from "../helpers/python-instance.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

const SKELETON = path.join(projectRoot, "clients/python/examples/worker_skeleton.py");
const ID = "skeleton-1";

describe("the Python package's worker skeleton (clients/python/examples/worker_skeleton.py)", () => {
  let orchestrator: TestOrchestrator | undefined;
  const workers: PythonInstance[] = [];
  const skeleton = (env: Record<string, string>) => {
    const w = new PythonInstance(env, SKELETON);
    workers.push(w);
    return w;
  };
  before(async () => {
    orchestrator = await startTestOrchestrator({ HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "1500", RECONNECT_GRACE_MS: "500" });
  });
  after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    await orchestrator?.close();
  });

  /** The lines of `kind` ("recording" or "cancelled") the skeleton's tasks logged, by stream id. */
  const taskLines = (w: PythonInstance, kind: string) =>
    w.lines.flatMap((l) => new RegExp(`^\\d+\\.\\d{3} INFO worker: ${kind} (\\S+)$`).exec(l)?.[1] ?? []);
  /** The index of the first line matching `pattern`. */
  const lineOf = (w: PythonInstance, pattern: RegExp) => w.lines.findIndex((l) => pattern.test(l));

  test("a bad variable: one line naming it, exit 2", async () => {
    const w = skeleton({ INSTANCE_ID: ID, MAX_STREAMS: "many" });
    assert.equal((await w.exit(5_000)).code, 2, w.output());
    assert.equal(w.lines.length, 1, w.output());
    assert.match(w.output(), /ERROR worker: configuration error: MAX_STREAMS must be a whole number/);
  });

  test("a task per stream, cancelled before the ack of a revoke, all cancelled on SIGTERM", { timeout: 20_000 }, async () => {
    const o = orchestrator!;
    const ids = streamIds(3, "skel");
    const admin = new AdminClient(o.grpcAddress);
    try {
      await admin.upsert(ids.map((id) => ({ id, url: `https://radio.example/${id}.mp3` })));
      const w = skeleton({ ORCHESTRATOR_URL: o.grpcAddress, INSTANCE_ID: ID, MAX_STREAMS: "5" });
      await waitUntil(() => taskLines(w, "recording").length === 3, 8_000, () => `the skeleton to start 3 tasks; output:\n${w.output()}`);
      assert.deepEqual(taskLines(w, "recording").sort(), ids);
      for (const [id, epoch] of w.running()) assert.equal(o.app.coordinator.view.owners.get(id)?.epoch, epoch, `${id} under its grant's epoch`);

      // A revoke: the orchestrator forgets the stream once the skeleton acked, after its task ended.
      const [revoked, ...kept] = ids as [string, ...string[]];
      await admin.delete([revoked]);
      await waitUntil(() => !w.running().has(revoked), 5_000, () => `the skeleton to stop ${revoked}; output:\n${w.output()}`);
      assert.deepEqual(taskLines(w, "cancelled"), [revoked]);
      assert.ok(lineOf(w, new RegExp(`cancelled ${revoked}$`)) < lineOf(w, new RegExp(`stop ${revoked}$`)), "on_stop returned after its task ended");

      w.child.kill("SIGTERM");
      assert.deepEqual(await w.exit(5_000), { code: 0, signal: null }, w.output());
      assert.deepEqual(taskLines(w, "cancelled").sort(), ids, `every task cancelled; output:\n${w.output()}`);
      assert.equal(w.running().size, 0);
      for (const id of kept) assert.ok(o.app.coordinator.view.owners.get(id)?.instanceId === ID, `${id} waits for the skeleton to return`);
      const left = await o.app.db.selectFrom("events").select("detail").where("kind", "=", "instance.left").where("instance_id", "=", ID).execute();
      assert.deepEqual(left.map((row) => row.detail), [{ reason: "restart", return_within_ms: 60_000 }]);
    } finally {
      admin.close();
    }
  });
});
