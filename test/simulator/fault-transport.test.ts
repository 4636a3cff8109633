import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import type { ConnectResponse } from "../../src/gen/orchestrator/v1/orchestrator.js";
import { FaultTransport } from "../../src/simulator/fault-transport.js";
import { FakeTransport } from "../client/fakes.js";
import { sleep } from "../helpers/wait.js";

function setup() {
  const inner = new FakeTransport();
  const transport = new FaultTransport("unused:0", inner);
  const call = transport.open();
  const fake = inner.calls[0]!;
  const seen: string[] = [];
  call.on("data", (m: ConnectResponse) => seen.push(`data:${m.msg?.$case}`));
  call.on("status", (s) => seen.push(`status:${s.code}`));
  call.on("error", () => seen.push("error"));
  return { inner, transport, call, fake, seen };
}

const heartbeat = { msg: { $case: "heartbeat" as const, value: { runningStreams: 0, seq: 1, metrics: undefined } } };

describe("FaultTransport", () => {
  test("opens each call on the endpoint the client's rotation picked (another replica, a record of a name)", () => {
    const inner = new FakeTransport();
    const transport = new FaultTransport("unused:0", inner);
    transport.open({ address: "a:1" });
    transport.open({ address: "b:2" });
    assert.deepEqual(inner.calls.map((c) => c.endpoint?.address), ["a:1", "b:2"]);
  });

  test("passes messages both ways when healthy", async () => {
    const { call, fake, seen } = setup();
    call.write(heartbeat);
    fake.welcome();
    assert.deepEqual(fake.kinds(), ["heartbeat"]);
    assert.deepEqual(seen, ["data:welcome"]);
  });

  test("a partition drops what is written and holds what arrives, then delivers it in order", async () => {
    const { transport, call, fake, seen } = setup();
    transport.partition();
    call.write(heartbeat);
    fake.welcome();
    fake.assign(1, true, []);
    assert.deepEqual(fake.kinds(), [], "nothing written during the partition leaves");
    assert.deepEqual(seen, [], "nothing is read during the partition");
    assert.throws(() => transport.open(), /simulated partition/);
    assert.equal(transport.heal(), false, "the call did not end");
    assert.deepEqual(seen, ["data:welcome", "data:assignment"]);
    call.write(heartbeat);
    assert.deepEqual(fake.kinds(), ["heartbeat"]);
  });

  test("heal reports a call the server ended during the partition, and only then delivers its status", async () => {
    const { transport, fake, seen } = setup();
    transport.partition();
    fake.finish(status.UNAVAILABLE, "lease expired");
    await sleep(5);
    assert.deepEqual(seen, []);
    assert.equal(transport.heal(), true);
    assert.deepEqual(seen, ["error", `status:${status.UNAVAILABLE}`]);
  });

  test("cancelling a partitioned call ends it at once (a local act needs no network)", async () => {
    const { transport, call, seen } = setup();
    transport.partition();
    call.cancel();
    await sleep(5);
    assert.deepEqual(seen, ["error", `status:${status.CANCELLED}`]);
  });

  test("a crash cancels the call, closes the channel and refuses new calls until revived", async () => {
    const { inner, transport, call, fake, seen } = setup();
    transport.crash();
    await sleep(5);
    assert.equal(fake.cancelled, true);
    assert.equal(inner.closed, true);
    assert.deepEqual(seen, ["error", `status:${status.CANCELLED}`]);
    call.write(heartbeat);
    assert.deepEqual(fake.kinds(), [], "a dead connection writes nothing");
    assert.throws(() => transport.open(), /simulated crash/);
    transport.revive();
    assert.doesNotThrow(() => transport.open());
    assert.equal(inner.calls.length, 2);
  });
});
