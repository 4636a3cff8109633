import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { InstanceClient } from "../../src/client/index.js";
import { closeClientsAfterEach, connect, setup } from "./client-setup.js";
import { stream } from "./fakes.js";
import { sleep, waitUntil } from "../helpers/wait.js";

closeClientsAfterEach();

describe("InstanceClient: strict mode, close and options", () => {
  test("strict mode stops every stream once disconnected longer than the lease", async () => {
    const s = setup({ strict: true, welcomeTimeoutMs: 60_000 });
    const lost: string[][] = [];
    s.client.on("leaseLost", (e) => lost.push(e.stopped));
    // Taken before the client sends its hello: the lease runs from that send (confirmed by the welcome),
    // not from the ack; the fake's own write time may come a GC pause after the client's.
    const beforeHello = performance.now();
    const call = await connect(s, 60_000, 600);
    call.assign(1, true, [stream("a")]);
    await waitUntil(() => call.acks().length === 1);
    const confirmedAt = call.writtenAt[0]!;
    call.finish(status.UNAVAILABLE, "network down");
    await s.transport.call(1); // hangs without a welcome, like an unreachable server
    await sleep(30);
    // (On a loaded machine the lease may be over already; then only the stop time below is checked.)
    if (performance.now() - confirmedAt < 550) assert.deepEqual(s.stopped, [], "not before the lease ran out");
    await waitUntil(() => s.stopped.length === 1, 2_000);
    assert.ok(performance.now() - beforeHello >= 599, `stopped ${performance.now() - beforeHello} ms after the hello was about to be sent; the lease is 600 ms`);
    assert.deepEqual(s.stopped, [["a", "lease-lost"]]);
    assert.deepEqual(lost, [["a"]]);
  });

  test("without strict, streams survive a disconnect longer than the lease", async () => {
    const s = setup({ welcomeTimeoutMs: 60_000 });
    const call = await connect(s, 60_000, 20);
    call.assign(1, true, [stream("a")]);
    await waitUntil(() => call.acks().length === 1);
    call.finish(status.UNAVAILABLE);
    await s.transport.call(1);
    await sleep(100);
    assert.deepEqual(s.stopped, []);
    assert.deepEqual([...s.client.running().keys()], ["a"]);
  });

  test("strict mode does not fire when the client reconnects in time", async () => {
    const s = setup({ strict: true });
    const call = await connect(s, 60_000, 1_000);
    call.assign(1, true, [stream("a")]);
    await waitUntil(() => call.acks().length === 1);
    call.finish(status.UNAVAILABLE);
    // The new session's welcome renews the lease: the first one's second no longer counts.
    (await s.transport.call(1)).welcome("s2", 60_000, 60_000);
    await sleep(1_100);
    assert.deepEqual(s.stopped, []);
  });

  test("strict mode stops every stream when no heartbeat is acknowledged for a lease on an open session, and reconnects", async () => {
    // A black hole: the call stays open, heartbeats leave, nothing comes back.
    const s = setup({ strict: true });
    const call = await connect(s, 20, 300);
    call.assign(1, true, [stream("a")]);
    await waitUntil(() => call.acks().length === 1);
    const confirmedAt = call.writtenAt[0]!; // the hello, confirmed by the welcome; no heartbeat is acknowledged
    await waitUntil(() => s.stopped.length === 1, 2_000, "the lease to run out");
    assert.ok(performance.now() - confirmedAt >= 295, `stopped ${performance.now() - confirmedAt} ms after the hello; the lease is 300 ms`);
    assert.deepEqual(s.stopped, [["a", "lease-lost"]]);
    assert.equal(call.cancelled, true, "the useless session is ended");
    const next = await s.transport.call(1);
    const hello = next.written[0]?.msg;
    assert.ok(hello?.$case === "hello" && hello.value.held.length === 0, "the next hello holds nothing");
  });

  test("acknowledged heartbeats keep a strict lease, counted from when the acknowledged one was sent", async () => {
    const s = setup({ strict: true });
    const call = await connect(s, 40, 300);
    let acking = true;
    let lastAckedSentAt = 0;
    call.on("written", (m) => {
      if (!acking || m.msg?.$case !== "heartbeat") return;
      lastAckedSentAt = Date.now();
      const seq = m.msg.value.seq;
      setTimeout(() => call.send({ $case: "heartbeatAck", value: { seq } }), 100); // a slow round trip
    });
    call.assign(1, true, [stream("a")]);
    await waitUntil(() => call.acks().length === 1);
    await sleep(700);
    assert.deepEqual(s.stopped, [], "renewed every heartbeat");
    acking = false;
    await waitUntil(() => s.stopped.length === 1, 2_000, "the lease to run out");
    const after = Date.now() - lastAckedSentAt;
    // From the send, not from the ack 100 ms later.
    assert.ok(after >= 295 && after < 390, `stopped ${after} ms after the last acknowledged heartbeat left; the lease is 300 ms`);
  });

  test("strict mode rides out a break shorter than its lease: it stops at the lease's end, not the grace's", async () => {
    const s = setup({ strict: true, welcomeTimeoutMs: 60_000 });
    s.client.start();
    const call = await s.transport.call(0);
    const helloSentAt = performance.now();
    call.welcome("s1", 60_000, 1_500, 150);
    await waitUntil(() => s.client.connected, 2_000, "the welcome");
    call.assign(1, true, [stream("a")]);
    await waitUntil(() => call.acks().length === 1);
    call.finish(status.UNAVAILABLE, "connection reset");
    await s.transport.call(1); // hangs without a welcome, like an unreachable server
    await sleep(500);
    assert.deepEqual(s.stopped, [], "still running well past the 150 ms grace");
    await waitUntil(() => s.stopped.length === 1, 3_000, "the lease to run out");
    const after = performance.now() - helloSentAt;
    // The hello left a little before the fake saw the call open, so the lower bound allows for that.
    assert.ok(after >= 1_400 && after < 2_500, `stopped ${after} ms after the hello left; the lease is 1500 ms, the grace 150 ms`);
    assert.deepEqual(s.stopped, [["a", "lease-lost"]]);
  });

  test("a restart's promised lease ends with the next renewal: cut off after it, a strict client stops at that renewal's lease, not the promise", async () => {
    const s = setup({ strict: true, welcomeTimeoutMs: 60_000, backoff: { initialMs: 1, maxMs: 5 } });
    s.client.start();
    const first = await s.transport.call(0);
    first.welcome("s1", 60_000, 600, 150);
    await waitUntil(() => s.client.connected, 2_000, "the welcome");
    first.assign(1, true, [stream("a")]);
    await waitUntil(() => first.acks().length === 1);
    // The old orchestrator promises 10 s and goes; the new one welcomes the client back (a renewal).
    first.send({ $case: "goAway", value: { reason: "restarting", reconnectAfterMs: 0, leaseExtensionMs: 10_000, leaderAddress: "" } });
    first.finish(status.UNAVAILABLE, "server shutting down");
    const second = await s.transport.call(1);
    const renewedAt = performance.now();
    second.welcome("s2", 60_000, 600, 150);
    await waitUntil(() => s.client.connected, 2_000, "the second welcome");
    second.assign(1, true, [stream("a")]);
    await waitUntil(() => second.acks().length === 1);
    // Cut off now: the lease counts from that hello again, 600 ms, not from the promise's 10 s.
    second.finish(status.UNAVAILABLE, "connection reset");
    await s.transport.call(2); // hangs without a welcome, like an unreachable server
    await waitUntil(() => s.stopped.length === 1, 3_000, "the renewed lease to run out");
    const after = performance.now() - renewedAt;
    assert.ok(after < 1_500, `stopped ${after.toFixed(0)} ms after the renewal; its lease is 600 ms, the promise was 10 s`);
    assert.deepEqual(s.stopped, [["a", "lease-lost"]]);
  });

  test("close stops every stream, then sends leave and half-closes; it is idempotent", async () => {
    const order: string[] = [];
    const s = setup({ onStop: (id, reason) => void order.push(`stop ${id} ${reason}`) });
    const call = await connect(s);
    call.on("written", (m) => order.push(m.msg?.$case ?? ""));
    call.on("halfClosed", () => order.push("half-close"));
    call.assign(1, true, [stream("a"), stream("b")]);
    await waitUntil(() => call.acks().length === 1);
    order.length = 0;
    const closing = s.client.close("maintenance");
    assert.equal(s.client.close(), closing, "the same promise");
    await closing;
    assert.deepEqual(order, ["stop a shutdown", "stop b shutdown", "leave", "half-close"]);
    const leave = call.written.at(-1)?.msg;
    assert.ok(leave?.$case === "leave" && leave.value.reason === "maintenance");
    assert.equal(call.cancelled, false);
    assert.equal(s.transport.closed, true);
    assert.equal(s.client.connected, false);
    assert.equal(s.client.sessionId, undefined);
    assert.deepEqual(s.events.disconnected.map((e) => e.sessionId), ["s1"]);
    assert.equal(s.client.running().size, 0);
    await s.client.close();
    assert.equal(order.filter((o) => o.startsWith("stop")).length, 2, "no second round of stops");
    await sleep(30);
    assert.equal(s.transport.calls.length, 1, "no reconnect after close");
    assert.throws(() => s.client.start(), /closed/);
  });

  test("close gives up waiting for the server after closeTimeoutMs and cancels", async () => {
    const s = setup({ closeTimeoutMs: 40 });
    const call = await connect(s);
    call.finishOnHalfClose = false;
    const began = Date.now();
    await s.client.close();
    assert.ok(call.halfClosed && call.cancelled);
    assert.ok(Date.now() - began >= 35);
  });

  test("close while waiting to reconnect stops the loop at once", async () => {
    const s = setup({ backoff: { initialMs: 5_000, maxMs: 5_000 } });
    s.client.start();
    (await s.transport.call(0)).finish(status.UNAVAILABLE);
    await waitUntil(() => s.events.disconnected.length === 1);
    const began = Date.now();
    await s.client.close();
    assert.ok(Date.now() - began < 1_000);
    assert.equal(s.transport.calls.length, 1);
  });

  test("rejects invalid options at construction", () => {
    const base = { address: "x:1", instanceId: "i", capacity: 1, onStart() {}, onStop() {} };
    assert.throws(() => new InstanceClient({ ...base, instanceId: "" }), /instanceId/);
    assert.throws(() => new InstanceClient({ ...base, instanceId: "x".repeat(129) }), /instanceId/);
    assert.throws(() => new InstanceClient({ ...base, capacity: 10_001 }), /capacity/);
    assert.throws(() => new InstanceClient({ ...base, capacity: 1.5 }), /capacity/);
    assert.throws(() => new InstanceClient({ ...base, backoff: { initialMs: 10, maxMs: 1 } }), /maxMs/);
  });
});
