import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { SUPERSEDED_RETRY_MS } from "../../src/client/instance-client.js";
import { closeClientsAfterEach, connect, setup } from "./client-setup.js";
import { deferred, stream } from "./fakes.js";
import { sleep, waitUntil } from "../helpers/wait.js";

closeClientsAfterEach();

describe("InstanceClient", () => {
  test("sends hello first with its identity and nothing held, then reports the session", async () => {
    const s = setup();
    const welcomes: string[] = [];
    s.client.on("welcome", (w) => welcomes.push(w.sessionId));
    assert.equal(s.client.connected, false);
    const call = await connect(s);
    assert.deepEqual(call.hello(), {
      instanceId: "finger_app_1",
      capacity: 10,
      held: [],
      labels: { region: "eu" },
      version: "1.2.3",
    });
    assert.deepEqual(welcomes, ["s1"]);
    assert.equal(s.client.sessionId, "s1");
    assert.equal(s.client.connected, true);
  });

  test("acks an assignment only after onStart finished", async () => {
    const gate = deferred();
    const s = setup({ onStart: () => gate.promise });
    const call = await connect(s);
    call.assign(1, true, [stream("a", 7)]);
    await sleep(30);
    assert.deepEqual(call.acks(), [], "no ack while onStart runs");
    assert.equal(s.events.assignment.length, 0);
    gate.resolve();
    await waitUntil(() => call.acks().length === 1);
    assert.deepEqual(call.acks(), [1]);
    assert.deepEqual(s.events.assignment, [
      { seq: 1, full: true, added: ["a"], removed: [], updated: [], failed: [], acked: true },
    ]);
    assert.equal(s.client.running().get("a")?.epoch, 7);
  });

  test("handles assignments strictly in order, one at a time", async () => {
    const gates = new Map([["a", deferred()], ["b", deferred()]]);
    const begun: string[] = [];
    const s = setup({
      onStart: async (st) => {
        begun.push(st.id);
        await gates.get(st.id)?.promise;
      },
    });
    const call = await connect(s);
    call.assign(1, true, [stream("a")]);
    call.assign(2, false, [stream("b")]);
    await sleep(30);
    assert.deepEqual(begun, ["a"], "the second assignment waits for the first");
    gates.get("b")?.resolve();
    gates.get("a")?.resolve();
    await waitUntil(() => call.acks().length === 2);
    assert.deepEqual(call.acks(), [1, 2]);
    assert.deepEqual(begun, ["a", "b"]);
  });

  test("after a reconnect, hello holds the running streams and the full assignment resyncs without restarts", async () => {
    const epochChanges: Array<[string, number, number]> = [];
    const s = setup({ onEpochChange: (st, previous) => void epochChanges.push([st.id, previous, st.epoch]) });
    const first = await connect(s);
    first.assign(1, true, [stream("a", 1), stream("b", 1)]);
    await waitUntil(() => first.acks().length === 1);
    first.finish(status.UNAVAILABLE, "connection reset");

    const second = await s.transport.call(1);
    assert.deepEqual(
      [...second.hello().held].sort((x, y) => x.streamId.localeCompare(y.streamId)),
      [{ streamId: "a", epoch: 1 }, { streamId: "b", epoch: 1 }],
    );
    assert.deepEqual(s.stopped, [], "streams keep running while disconnected");
    assert.deepEqual(s.events.disconnected[0], { code: status.UNAVAILABLE, details: "connection reset", sessionId: "s1", address: "fake:1" });

    second.welcome("s2");
    second.assign(1, true, [stream("a", 2), stream("c", 2)]);
    await waitUntil(() => second.acks().length === 1);
    assert.deepEqual(s.started.map((st) => st.id), ["a", "b", "c"], "a was not restarted");
    assert.deepEqual(s.stopped, [["b", "revoked"]]);
    assert.deepEqual(epochChanges, [["a", 1, 2]]);
    assert.equal(s.client.running().get("a")?.epoch, 2);
    assert.equal(s.client.sessionId, "s2");
  });

  test("sends heartbeats at the welcome's interval with metrics and the running count", async () => {
    const s = setup({ metrics: () => ({ cpuPercent: 12.5, memoryPercent: 40 }) });
    const call = await connect(s, 20);
    call.assign(1, true, [stream("a"), stream("b")]);
    await waitUntil(() => call.acks().length === 1);
    const before = call.kinds().filter((k) => k === "heartbeat").length;
    await waitUntil(() => call.kinds().filter((k) => k === "heartbeat").length >= before + 2);
    const beat = call.written.findLast((m) => m.msg?.$case === "heartbeat")?.msg;
    assert.equal(beat?.$case, "heartbeat");
    if (beat?.$case !== "heartbeat") return;
    assert.equal(beat.value.runningStreams, 2);
    assert.equal(beat.value.metrics?.cpuPercent, 12.5);
    assert.deepEqual(beat.value.metrics?.loadAverage, []);
  });

  test("a failing metrics callback still sends the heartbeat, without metrics", async () => {
    const s = setup({ metrics: () => { throw new Error("no /proc"); } });
    const call = await connect(s, 15);
    await waitUntil(() => call.kinds().includes("heartbeat"));
    const beat = call.written.find((m) => m.msg?.$case === "heartbeat")?.msg;
    assert.ok(beat?.$case === "heartbeat" && beat.value.metrics === undefined);
  });

  test("a slow metrics callback does not hold heartbeats back, and calls do not pile up", async () => {
    let calls = 0;
    let running = 0;
    let most = 0;
    const s = setup({
      metrics: async () => {
        calls++;
        most = Math.max(most, ++running);
        await sleep(200);
        running--;
        return { cpuPercent: calls };
      },
    });
    const call = await connect(s, 40);
    await sleep(500);
    const beats = call.written.flatMap((m) => (m.msg?.$case === "heartbeat" ? [m.msg.value] : []));
    // Every 40 ms whatever the callback does (waiting for it would give 2 or 3).
    assert.ok(beats.length >= 7, `${beats.length} heartbeats in 500 ms`);
    assert.equal(most, 1, "one metrics call at a time");
    assert.ok(calls >= 2 && calls <= 3, `${calls} metrics calls`);
    assert.equal(beats[0]!.metrics, undefined, "nothing known yet");
    assert.ok(beats.at(-1)!.metrics?.cpuPercent! >= 1, "later heartbeats carry the last metrics known");
  });

  test("a failing onStart is logged and skipped, the assignment is still acked", async () => {
    const s = setup({ onStart: (st) => { if (st.id === "bad") throw new Error("ffmpeg missing"); } });
    const call = await connect(s);
    call.assign(1, true, [stream("good"), stream("bad")]);
    await waitUntil(() => call.acks().length === 1);
    assert.deepEqual(s.events.assignment[0]?.failed, ["bad"]);
    assert.deepEqual([...s.client.running().keys()], ["good"]);
    call.finish(status.UNAVAILABLE);
    const next = await s.transport.call(1);
    assert.deepEqual(next.hello().held, [{ streamId: "good", epoch: 1 }]);
  });

  test("go_away half-closes the call and reconnects after the requested delay", async () => {
    const s = setup();
    const call = await connect(s);
    const sentAt = performance.now();
    call.send({ $case: "goAway", value: { reason: "draining", reconnectAfterMs: 80, leaseExtensionMs: 0, leaderAddress: "" } });
    await waitUntil(() => call.halfClosed);
    const next = await s.transport.call(1);
    assert.ok(performance.now() - sentAt >= 75, `reconnected after ${(performance.now() - sentAt).toFixed(0)} ms`);
    assert.equal(call.cancelled, false, "the server ended the call, no need to cancel");
    assert.equal(next.kinds()[0], "hello");
  });

  test("superseded: stops the streams, emits superseded and does not reconnect quickly", async () => {
    // The network backoff is quick; a takeover waits the superseded delay (15 s unless set).
    const s = setup({ backoff: { initialMs: 1, maxMs: 5 }, superseded: { delayMs: 300 } });
    const call = await connect(s);
    call.assign(1, true, [stream("a")]);
    await waitUntil(() => call.acks().length === 1);
    const endedAt = performance.now();
    call.finish(status.ABORTED, "superseded by a newer session");
    await waitUntil(() => s.events.superseded.length === 1);
    assert.deepEqual(s.stopped, [["a", "superseded"]]);
    assert.equal(s.client.running().size, 0);
    await sleep(100);
    assert.equal(s.transport.calls.length, 1, "no quick reconnect");
    await s.transport.call(1);
    assert.ok(performance.now() - endedAt >= 290, "waits the superseded delay, not the backoff");
  });

  test("superseded without a delay of its own waits SUPERSEDED_RETRY_MS, not the quick network backoff", async () => {
    const s = setup({ backoff: { initialMs: 1, maxMs: 5 } });
    const call = await connect(s);
    call.finish(status.ABORTED, "superseded by a newer session");
    await waitUntil(() => s.events.superseded.length === 1);
    await sleep(300);
    assert.equal(s.transport.calls.length, 1, `no reconnect within 300 ms (the delay is ${SUPERSEDED_RETRY_MS} ms)`);
  });

  test("superseded with reconnect disabled stops reconnecting for good", async () => {
    const s = setup({ superseded: { reconnect: false } });
    const call = await connect(s);
    call.finish(status.ABORTED, "superseded");
    await waitUntil(() => s.events.superseded.length === 1);
    await sleep(50);
    assert.equal(s.transport.calls.length, 1);
  });

  test("a rejected hello emits rejected and error, and stops reconnecting", async () => {
    const s = setup();
    s.client.start();
    const call = await s.transport.call(0);
    call.finish(status.INVALID_ARGUMENT, "capacity must be at most 10000");
    await waitUntil(() => s.events.rejected.length === 1);
    assert.deepEqual(s.events.rejected, ["capacity must be at most 10000"]);
    assert.match(s.events.errors[0]?.message ?? "", /capacity must be at most 10000/);
    await sleep(50);
    assert.equal(s.transport.calls.length, 1);
  });

  test("an error without an error listener does not throw", async () => {
    const s = setup();
    s.client.removeAllListeners("error");
    s.client.start();
    (await s.transport.call(0)).finish(status.INVALID_ARGUMENT, "bad");
    await waitUntil(() => s.events.rejected.length === 1);
  });

  test("a throwing event listener neither crashes the process nor stops reconnecting", async () => {
    const s = setup();
    s.client.on("assignment", () => { throw new Error("listener bug"); });
    s.client.on("disconnected", () => { throw new Error("listener bug"); });
    const call = await connect(s);
    call.assign(1, true, [stream("a")]);
    await waitUntil(() => call.acks().length === 1);
    call.finish(status.UNAVAILABLE);
    const next = await s.transport.call(1);
    next.welcome("s2");
    await waitUntil(() => s.client.connected && s.client.sessionId === "s2");
  });

  test("transient failures reconnect with backoff until a session is welcomed", async () => {
    const s = setup();
    s.transport.onOpen = (call) => {
      if (s.transport.calls.length <= 3) call.finish(status.UNAVAILABLE, "connection refused");
    };
    s.client.start();
    const fourth = await s.transport.call(3);
    fourth.welcome("s4");
    await waitUntil(() => s.client.connected);
    assert.deepEqual(s.events.disconnected.map((e) => [e.code, e.sessionId]), [
      [status.UNAVAILABLE, undefined],
      [status.UNAVAILABLE, undefined],
      [status.UNAVAILABLE, undefined],
    ]);
  });

  test("a session without a welcome is abandoned after welcomeTimeoutMs", async () => {
    const s = setup({ welcomeTimeoutMs: 30 });
    s.client.start();
    const call = await s.transport.call(0);
    await s.transport.call(1);
    assert.equal(call.cancelled, true);
    assert.equal(s.events.disconnected[0]?.code, status.DEADLINE_EXCEEDED);
  });

  test("messages queued when the call ends are dropped, and an ack is never written to a dead call", async () => {
    const gate = deferred();
    const s = setup({ onStart: (st) => (st.id === "a" ? gate.promise : undefined) });
    const call = await connect(s);
    call.assign(1, true, [stream("a")]);
    call.assign(2, false, [stream("late")]);
    await waitUntil(() => s.transport.calls.length === 1 && call.written.length === 1);
    call.finish(status.UNAVAILABLE, "reset");
    await waitUntil(() => s.events.disconnected.length === 1);
    gate.resolve();
    await waitUntil(() => s.events.assignment.length === 1);
    assert.equal(s.events.assignment[0]?.acked, false);
    assert.deepEqual(call.acks(), []);
    const next = await s.transport.call(1);
    assert.deepEqual(next.hello().held, [{ streamId: "a", epoch: 1 }], "hello waited for the in-flight assignment");
    await sleep(20);
    assert.ok(!s.started.some((st) => st.id === "late"), "the queued assignment of the dead session was dropped");
  });
});
