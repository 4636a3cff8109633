/**
 * The Python example instance (examples/python, a worker on the finger_orchestrator package)
 * against a real orchestrator: it must run what it is given, heartbeat with metrics at the server's interval, ack only after its handlers
 * finished (or nothing could ever move away from it), resync after a restart, step aside when
 * superseded, give up on a rejected hello, and leave for good on SIGINT (SIGTERM, a restart:
 * python-restart.test.ts).
 *
 * Needs Debian's python3-grpcio and python3-protobuf (scripts/install-system-deps.sh installs
 * them); without them this file fails, it does not skip.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { streamIds } from "../helpers/admin-client.js";
import { runPythonJson } from "../helpers/python-instance.js";
import { PythonTestBed } from "../helpers/python-testbed.js";
import { fullAssignment } from "../helpers/raw-session.js";
import { sleep, waitUntil } from "../helpers/wait.js";

describe("the Python example instance (examples/python) against the real server", () => {
  const bed = new PythonTestBed({ HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "1500", RECONNECT_GRACE_MS: "500" });
  before(() => bed.setUp());
  afterEach(() => bed.reset());
  after(() => bed.tearDown());
  const boot = (ids: string[]) => bed.boot(ids);
  const python = (workerEnv: Record<string, string>) => bed.python(workerEnv);
  const rawSession = (address: string, instanceId: string) => bed.rawSession(address, instanceId);

  test("reads the legacy configuration: ORCHESTRATOR_URL with a scheme, SERVER_ID, MAX_STREAMS", () => {
    const script = `
import json
from finger_orchestrator import ClientConfig
cases = [
  {"ORCHESTRATOR_URL": "http://orch.example:50052", "INSTANCE_ID": "finger_app_1", "MAX_STREAMS": "20"},
  {"ORCHESTRATOR_ADDRESS": "10.0.0.5", "SERVER_ID": "finger_app_2"},
  {"ORCHESTRATOR_URL": "https://finger-orchestrator.example/", "INSTANCE_ID": "a"},
  {"ORCHESTRATOR_URL": "orch:1", "INSTANCE_ID": "a", "MAX_STREAMS": "many"},
  {"ORCHESTRATOR_URL": "orch:1"},
  {"INSTANCE_ID": "a", "LEAVE_RETURN_WITHIN_MS": "0"},
  {"INSTANCE_ID": "a", "LEAVE_RETURN_WITHIN_MS": "soon"},
  {"INSTANCE_ID": "a", "LEAVE_RETURN_WITHIN_MS": "-1"},
]
out = []
for env in cases:
    try:
        c = ClientConfig.from_env(env)
        out.append({"target": ",".join(c.targets), "secure": c.security.tls, "instance_id": c.instance_id,
                    "capacity": c.capacity, "return_within_ms": c.leave_return_within_ms})
    except ValueError as error:
        out.append({"error": str(error)})
print(json.dumps(out))
`;
    const [first, second, third, badNumber, noId, plainLeave, notANumber, negative] = runPythonJson<Array<Record<string, unknown>>>(script);
    assert.deepEqual(first, { target: "orch.example:50052", secure: false, instance_id: "finger_app_1", capacity: 20, return_within_ms: 60_000 });
    assert.deepEqual(second, { target: "10.0.0.5:50051", secure: false, instance_id: "finger_app_2", capacity: 10, return_within_ms: 60_000 });
    assert.equal(third?.target, "finger-orchestrator.example:443", "TLS's own port by default");
    assert.equal(third?.secure, true);
    assert.match(String(badNumber?.error), /MAX_STREAMS/);
    assert.match(String(noId?.error), /INSTANCE_ID/);
    assert.equal(plainLeave?.return_within_ms, 0);
    for (const bad of [notANumber, negative]) assert.match(String(bad?.error), /^LEAVE_RETURN_WITHIN_MS must be a whole number of milliseconds/);
  });

  test("runs its streams, heartbeats with metrics, acks so streams can move, and leaves for good on SIGINT", { timeout: 20_000 }, async () => {
    const ids = streamIds(6, "py");
    const o = await boot(ids);
    const fleet = o.app.coordinator.view;
    const py = python({
      ORCHESTRATOR_URL: `http://${o.grpcAddress}`, // the old guide's form, scheme and all
      INSTANCE_ID: "py-1",
      MAX_STREAMS: "10",
      DUMMY_STOP_SECONDS: "0.2",
    });

    // It receives everything, and runs it under the epochs the orchestrator granted.
    await waitUntil(() => py.running().size === 6, 8_000, () => `the Python instance to start 6 streams; output:\n${py.output()}`);
    assert.deepEqual([...py.running().keys()].sort(), ids);
    for (const [id, epoch] of py.running()) {
      const owner = fleet.owners.get(id);
      assert.deepEqual({ owner: owner?.instanceId, epoch: owner?.epoch }, { owner: "py-1", epoch }, id);
    }
    const entry = () => fleet.instance("py-1")!;
    assert.equal(entry().capacity, 10);
    assert.equal(entry().version, "python-example/0.1.0");
    assert.ok(entry().labels.hostname, "hello carries labels");

    // Heartbeats at the 300 ms the server dictates keep a 1500 ms lease alive; nothing else is sent meanwhile.
    const seen: number[] = [];
    const watchUntil = Date.now() + 1_600;
    while (Date.now() < watchUntil) {
      if (entry().lastSeen !== seen.at(-1)) seen.push(entry().lastSeen);
      await sleep(10);
    }
    const gaps = seen.slice(1).map((t, i) => t - seen[i]!);
    assert.ok(gaps.length >= 3 && Math.max(...gaps) < 700, `heartbeats every ~300 ms, got gaps ${gaps.join(", ")}`);
    assert.equal(entry().state, "connected");
    assert.equal(entry().runningStreams, 6);
    const m = entry().metrics ?? {};
    const scalars = ["cpu_percent", "memory_percent", "memory_used_gb", "memory_total_gb", "disk_percent", "disk_free_gb", "disk_total_gb"];
    for (const key of [...scalars, "uptime_seconds"]) {
      assert.equal(typeof m[key], "number", `metrics.${key} in ${JSON.stringify(m)}`);
    }
    assert.ok((m.memory_total_gb as number) > 0 && (m.memory_percent as number) > 0 && (m.memory_percent as number) <= 100);
    assert.ok((m.cpu_percent as number) >= 0 && (m.cpu_percent as number) <= 100);
    assert.equal((m.load_average as number[]).length, 3);

    // A second instance joins: 3 streams move, which the server allows only after python acked their removal.
    const addedAt = new Map<string, number>();
    const other = rawSession(o.grpcAddress, "other");
    other.call.on("data", () => {
      for (const a of other.assignments()) for (const s of a.add) if (!addedAt.has(s.id)) addedAt.set(s.id, Date.now());
    });
    await waitUntil(() => other.owned().size === 3, 5_000, () => `3 streams to move to the other instance; output:\n${py.output()}`);
    const moved = [...other.owned().keys()];
    await waitUntil(() => py.running().size === 3, 2_000, "python to log its stops");
    const stops = py.events().filter((e) => e.what === "stop" && moved.includes(e.id));
    assert.deepEqual(stops.map((e) => e.id).sort(), moved.sort(), "python stopped exactly the streams that moved");
    // Each stop takes 200 ms; an ack sent before the last one finished would let a stream move early.
    const lastStop = Math.max(...stops.map((e) => e.at));
    for (const id of moved) {
      assert.ok(addedAt.get(id)! >= lastStop - 1, `${id} granted ${lastStop - addedAt.get(id)!} ms before python finished stopping`);
    }
    await waitUntil(() => entry().runningStreams === 3, 2_000, "the heartbeat to report 3 running streams");

    // SIGINT (Ctrl-C, stopped for good): python stops its streams, says a plain leave, and the
    // rest move at once, not after the grace. (SIGTERM, a restart, is python-restart.test.ts's.)
    const remaining = [...py.running().keys()];
    const termAt = Date.now();
    py.child.kill("SIGINT");
    await waitUntil(() => other.owned().size === 6, 3_000, () => `the other instance to get all 6; output:\n${py.output()}`);
    const allMovedAt = Date.now();
    const exit = await py.exit(3_000);
    assert.deepEqual(exit, { code: 0, signal: null }, py.output());
    assert.equal(entry().state, "left", "the instance left (a dropped connection would be in grace)");
    assert.deepEqual(await bed.events("instance.left", "py-1"), [{ reason: "shutdown" }], "a plain leave");
    const finalStops = py.events().filter((e) => e.what === "stop" && e.at >= termAt - 1);
    assert.deepEqual(finalStops.map((e) => e.id).sort(), remaining.sort(), "python stopped what it ran before leaving");
    const leftAt = Math.max(...finalStops.map((e) => e.at)); // leave goes out right after the last stop
    assert.ok(Math.min(...remaining.map((id) => addedAt.get(id)!)) >= leftAt - 1, "granted elsewhere only after python stopped them all");
    assert.ok(allMovedAt - leftAt < 400, `streams moved ${allMovedAt - leftAt} ms after python left; the reconnect grace is 500 ms`);
  });

  test("keeps its streams through an orchestrator restart: go_away, reconnect, hello with held", { timeout: 20_000 }, async () => {
    const ids = streamIds(4, "rs");
    let o = await boot(ids);
    const py = python({ ORCHESTRATOR_ADDRESS: o.grpcAddress, SERVER_ID: "py-restart" });
    await waitUntil(() => py.running().size === 4, 8_000, () => `the Python instance to start 4 streams; output:\n${py.output()}`);
    const before = py.running();
    const eventsBefore = py.events().length;

    await o.app.stop();
    await waitUntil(() => py.count(/go_away/) === 1, 2_000, () => `python to log the go_away; output:\n${py.output()}`);
    o = await bed.startAgain(); // its go_away carried lease_extension_ms, which python ignores
    await waitUntil(() => py.count(/connected to /) === 2, 6_000, () => `python to reconnect; output:\n${py.output()}`);
    const entry = () => o.app.coordinator.view.instance("py-restart");
    await waitUntil(() => entry()?.state === "connected", 2_000, "the new orchestrator to see it");
    // Two heartbeats (and the rounds meanwhile) on the new orchestrator: nothing may move.
    const heardAt = [entry()!.lastSeen];
    await waitUntil(
      () => {
        if (entry()!.lastSeen !== heardAt.at(-1)) heardAt.push(entry()!.lastSeen);
        return heardAt.length > 2;
      },
      2_000,
      "two heartbeats after the reconnect",
    );

    assert.equal(py.events().length, eventsBefore, `no stream was stopped or started; output:\n${py.output()}`);
    // The reconnect's hello listed what it runs (the server records the count in the audit log).
    const joins = async () => (await bed.events("instance.joined", "py-restart")).map((detail) => detail.held);
    await waitUntil(async () => (await joins()).length === 2, 3_000, "both joins in the audit log");
    assert.deepEqual(await joins(), [0, 4]);
    for (const [id, epoch] of before) {
      const owner = o.app.coordinator.view.owners.get(id);
      assert.deepEqual(owner && { instanceId: owner.instanceId, epoch: owner.epoch }, { instanceId: "py-restart", epoch }, id);
    }
    py.child.kill("SIGTERM");
    assert.equal((await py.exit(3_000)).code, 0);
  });

  test("superseded by a second process with its id: stops its streams and backs off instead of fighting", { timeout: 20_000 }, async () => {
    const ids = streamIds(2, "sp");
    const o = await boot(ids);
    const py = python({ ORCHESTRATOR_URL: o.grpcAddress, INSTANCE_ID: "py-dup" });
    await waitUntil(() => py.running().size === 2, 8_000, () => `the Python instance to start 2 streams; output:\n${py.output()}`);

    const usurper = rawSession(o.grpcAddress, "py-dup");
    const full = await usurper.waitFor(fullAssignment);
    assert.deepEqual(full.add.map((s) => s.id).sort(), ids);
    await waitUntil(() => py.running().size === 0, 3_000, () => `python to stop what the usurper now runs; output:\n${py.output()}`);
    assert.equal(py.count(/superseded by another process/), 1);

    await sleep(1_500); // an eager reconnect would supersede the usurper within this time
    const ended = await Promise.race([usurper.ended.then(() => true), sleep(0).then(() => false)]);
    assert.equal(ended, false, `the usurper keeps its session; output:\n${py.output()}`);
    assert.equal(py.count(/connected to /), 1, "python did not reconnect yet");
    assert.equal(py.running().size, 0);

    const termAt = Date.now();
    py.child.kill("SIGTERM");
    assert.equal((await py.exit(2_000)).code, 0);
    assert.ok(Date.now() - termAt < 1_500, "SIGTERM interrupts the back-off");
  });

  test("a rejected hello (INVALID_ARGUMENT) makes it give up with a clear error instead of retrying", { timeout: 20_000 }, async () => {
    const o = await boot([]);
    // A control character: the package checks only the length, the orchestrator refuses it.
    const py = python({ ORCHESTRATOR_URL: o.grpcAddress, INSTANCE_ID: "py\u0001bad" });
    const exit = await py.exit(8_000);
    assert.equal(exit.code, 1, py.output());
    assert.match(py.output(), /rejected instance 'py\\x01bad' \(INVALID_ARGUMENT: hello\.instance_id: must not contain control characters/);
    assert.equal(py.count(/rejected/), 1, "one attempt, no retries");
    assert.equal(o.app.coordinator.view.instancesById().length, 0);
  });
});
