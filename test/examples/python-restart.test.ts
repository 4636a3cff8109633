/**
 * The Python example stopped by SIGTERM, what a container runtime or systemd sends to restart or
 * redeploy it: it stops its streams and leaves with return_within_ms = LEAVE_RETURN_WITHIN_MS
 * (60 s by default), so its streams wait for it, unrun, and the next process with its id gets
 * them all back under the same epochs; another instance starts none of them meanwhile. Not back
 * in time, they move as a dead instance's. LEAVE_RETURN_WITHIN_MS=0 makes SIGTERM a plain leave,
 * as SIGINT always is (python-instance.test.ts), and a bad value is a configuration error.
 *
 * Needs what python-instance.test.ts needs.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { streamIds } from "../helpers/admin-client.js";
import type { PythonInstance } from "../helpers/python-instance.js";
import { PythonTestBed } from "../helpers/python-testbed.js";
import type { RawSession } from "../helpers/raw-session.js";
import type { TestOrchestrator } from "../helpers/test-orchestrator.js";
import { sleep, waitUntil } from "../helpers/wait.js";

const LEASE_TTL_MS = 1_500;
const RECONNECT_GRACE_MS = 500;
const ID = "py-restarting";

describe("the Python example instance restarting: SIGTERM leaves with return_within_ms", () => {
  const bed = new PythonTestBed({
    HEARTBEAT_INTERVAL_MS: "300",
    LEASE_TTL_MS: String(LEASE_TTL_MS),
    RECONNECT_GRACE_MS: String(RECONNECT_GRACE_MS),
  });
  before(() => bed.setUp());
  afterEach(() => bed.reset());
  after(() => bed.tearDown());

  /** Python (ID) and a raw session ("other") sharing 6 streams 3/3; what python runs, by epoch. */
  async function split(workerEnv: Record<string, string> = {}) {
    const o = await bed.boot(streamIds(6, "rt"));
    const py = bed.python({ ORCHESTRATOR_URL: o.grpcAddress, INSTANCE_ID: ID, ...workerEnv });
    await waitUntil(() => py.running().size === 6, 8_000, () => `python to start 6 streams; output:\n${py.output()}`);
    const other = bed.rawSession(o.grpcAddress, "other");
    await waitUntil(
      () => other.owned().size === 3 && py.running().size === 3,
      5_000,
      () => `a 3/3 split, got ${other.owned().size}/${py.running().size}; output:\n${py.output()}`,
    );
    return { o, py, other, mine: py.running() };
  }

  /** Every stream id the raw session was ever given. */
  const everAdded = (other: RawSession) => other.assignments().flatMap((a) => a.add.map((s) => s.id));
  const state = (o: TestOrchestrator) => o.app.coordinator.view.instance(ID)?.state;

  async function terminate(py: PythonInstance): Promise<void> {
    py.child.kill("SIGTERM");
    assert.deepEqual(await py.exit(3_000), { code: 0, signal: null }, py.output());
    assert.equal(py.running().size, 0, `python stopped everything before leaving; output:\n${py.output()}`);
  }

  test("SIGTERM: the streams wait for the next process with its id, which gets them all back", { timeout: 25_000 }, async () => {
    const { o, py, other, mine } = await split();
    const addedBefore = everAdded(other).length;

    await terminate(py);
    assert.match(py.output(), /SIGTERM: stopping streams and leaving to return within 60000 ms/);
    await waitUntil(async () => (await bed.events("instance.left", ID)).length === 1, 3_000, "the leave in the audit log");
    assert.deepEqual(await bed.events("instance.left", ID), [{ reason: "restart", return_within_ms: 60_000 }]);
    assert.equal(state(o), "disconnected", "away, not gone");

    // Well past its lease and the reconnect grace: nothing of python's moves, its grants stay.
    await sleep(LEASE_TTL_MS + RECONNECT_GRACE_MS + 700);
    assert.equal(state(o), "disconnected");
    for (const [id, epoch] of mine) {
      const owner = o.app.coordinator.view.owners.get(id);
      assert.deepEqual(owner && { instanceId: owner.instanceId, epoch: owner.epoch }, { instanceId: ID, epoch }, id);
    }
    assert.equal(everAdded(other).length, addedBefore, "the other instance was given none of them");

    // The next process (same INSTANCE_ID, holding nothing) gets exactly those, under the same epochs.
    const again = bed.python({ ORCHESTRATOR_URL: o.grpcAddress, INSTANCE_ID: ID });
    await waitUntil(() => again.running().size === 3, 8_000, () => `the new process to start 3; output:\n${again.output()}`);
    assert.deepEqual([...again.running()].sort(), [...mine].sort(), "the same streams with the same epochs");
    assert.equal(state(o), "connected");
    await sleep(700); // a couple of rounds more: nothing moves either way
    assert.equal(again.running().size, 3);
    assert.equal(everAdded(other).length, addedBefore, "the other instance started none of them");
    assert.equal(other.owned().size, 3);
  });

  test("SIGTERM, not back within LEAVE_RETURN_WITHIN_MS: the streams move as a dead instance's", { timeout: 20_000 }, async () => {
    const { o, py, other, mine } = await split({ LEAVE_RETURN_WITHIN_MS: "1000" });
    const leftAt = Date.now();
    await terminate(py);
    await waitUntil(async () => (await bed.events("instance.left", ID)).length === 1, 3_000, "the leave in the audit log");
    assert.deepEqual(await bed.events("instance.left", ID), [{ reason: "restart", return_within_ms: 1_000 }]);

    await waitUntil(() => other.owned().size === 6, 5_000, "the other instance to get all 6");
    assert.ok(Date.now() - leftAt >= 1_000, `moved ${Date.now() - leftAt} ms after the leave, before the window ended`);
    assert.ok([...mine.keys()].every((id) => other.owned().has(id)));
    assert.equal(state(o), "dead");
    assert.deepEqual(await bed.events("instance.dead", ID), [{ after: "return window", streams: 3 }]);
  });

  test("LEAVE_RETURN_WITHIN_MS=0: SIGTERM is a plain leave, the streams move at once", { timeout: 20_000 }, async () => {
    const { o, py, other } = await split({ LEAVE_RETURN_WITHIN_MS: "0" });
    await terminate(py);
    const leftAt = Date.now();
    assert.match(py.output(), /SIGTERM: stopping streams and leaving$/m);
    await waitUntil(() => other.owned().size === 6, 3_000, "the other instance to get all 6");
    assert.ok(Date.now() - leftAt < RECONNECT_GRACE_MS, "at once, not after the grace");
    assert.equal(state(o), "left");
    assert.deepEqual(await bed.events("instance.left", ID), [{ reason: "shutdown" }]);
  });

  test("a LEAVE_RETURN_WITHIN_MS that is not a number of milliseconds: one line naming it, exit 2", { timeout: 10_000 }, async () => {
    for (const value of ["soon", "-1", "4294967296"]) {
      const py = bed.python({ ORCHESTRATOR_URL: "127.0.0.1:1", INSTANCE_ID: ID, LEAVE_RETURN_WITHIN_MS: value });
      assert.equal((await py.exit(5_000)).code, 2, py.output());
      assert.equal(py.lines.length, 1, py.output());
      assert.match(py.output(), new RegExp(`configuration error: LEAVE_RETURN_WITHIN_MS must be .* got '${value}'`));
    }
  });
});
