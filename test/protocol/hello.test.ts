import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { fullAssignment, RawSession, welcome } from "../helpers/raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";

describe("hello comes first, and is checked", () => {
  let orchestrator: TestOrchestrator;
  before(async () => {
    orchestrator = await startTestOrchestrator({ HELLO_TIMEOUT_MS: "400" });
  });
  after(() => orchestrator.close());

  async function rejected(send: (s: RawSession) => void): Promise<{ code: number; details: string }> {
    const session = new RawSession(orchestrator.grpcAddress);
    send(session);
    const error = await session.ended;
    session.close();
    assert.ok(error, "the stream must end with an error status");
    return { code: error.code, details: error.details };
  }

  test("a first message other than hello is INVALID_ARGUMENT saying hello was expected", async () => {
    const e = await rejected((s) => s.send({ $case: "heartbeat", value: { runningStreams: 0, seq: 0 } }));
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.match(e.details, /expected hello as the first message, got heartbeat/);
  });

  test("no hello in time is DEADLINE_EXCEEDED", async () => {
    const started = Date.now();
    const e = await rejected(() => undefined);
    assert.equal(e.code, status.DEADLINE_EXCEEDED);
    assert.match(e.details, /expected hello .* within 400 ms/);
    assert.ok(Date.now() - started < 3_000);
  });

  test("empty, overlong ids and excessive capacity are rejected naming the field", async () => {
    let e = await rejected((s) => s.hello({ instanceId: "" }));
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.match(e.details, /hello\.instance_id: must not be empty/);
    e = await rejected((s) => s.hello({ instanceId: "x".repeat(129) }));
    assert.match(e.details, /hello\.instance_id: must be at most 128 characters/);
    e = await rejected((s) => s.hello({ instanceId: "big", capacity: 10_001 }));
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.match(e.details, /hello\.capacity: must be at most 10000/);
  });

  test("a 128-character id and capacity 0 are fine: welcome, then an empty full set", async () => {
    const session = new RawSession(orchestrator.grpcAddress);
    session.hello({ instanceId: "y".repeat(128), capacity: 0 });
    const w = await session.waitFor(welcome);
    // The defaults: the terms a strict client holds its streams on.
    assert.equal(w.heartbeatIntervalMs, 2_000);
    assert.equal(w.leaseTtlMs, 6_000);
    assert.equal(w.reconnectGraceMs, 3_000);
    assert.ok(w.sessionId.length > 0);
    const full = await session.waitFor(fullAssignment);
    assert.equal(full.seq, 1);
    assert.deepEqual(full.add, []);
    session.close();
  });

  test("a second hello on the same stream is refused", async () => {
    const e = await rejected((s) => {
      s.hello({ instanceId: "twice" });
      s.hello({ instanceId: "twice" });
    });
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.match(e.details, /hello may be sent only once/);
  });
});
