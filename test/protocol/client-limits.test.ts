import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { credentials, status } from "@grpc/grpc-js";
import { OrchestratorServiceClient } from "../../src/gen/orchestrator/v1/orchestrator.js";
import { AdminClient } from "../helpers/admin-client.js";
import { RawSession, welcome } from "../helpers/raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { httpStatus } from "../helpers/auth-probe.js";
import { waitUntil } from "../helpers/wait.js";

describe("limits on what a client sends", () => {
  let orchestrator: TestOrchestrator;
  const sessions: RawSession[] = [];
  const open = (shared?: OrchestratorServiceClient) => {
    const session = new RawSession(orchestrator.grpcAddress, shared);
    sessions.push(session);
    return session;
  };

  before(async () => {
    orchestrator = await startTestOrchestrator({ MAX_SESSIONS: "4", MAX_SESSIONS_PER_CONNECTION: "2", SESSION_MESSAGES_PER_SECOND: "20", SESSION_MESSAGE_BURST: "50" });
  });
  after(async () => {
    for (const s of sessions) s.close();
    await orchestrator.close();
  });

  test("a third session on one connection, then a fifth in all, get RESOURCE_EXHAUSTED; the open ones carry on", async () => {
    const shared = new OrchestratorServiceClient(orchestrator.grpcAddress, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    try {
      const [a, b] = [open(shared), open(shared)];
      a.hello({ instanceId: "shared_a" });
      b.hello({ instanceId: "shared_b" });
      await Promise.all([a.waitFor(welcome), b.waitFor(welcome)]);
      const third = open(shared);
      const refused = await third.ended;
      assert.equal(refused?.code, status.RESOURCE_EXHAUSTED);
      assert.match(refused!.details, /MAX_SESSIONS_PER_CONNECTION=2/);
      const [c, d] = [open(), open()];
      c.hello({ instanceId: "own_c" });
      d.hello({ instanceId: "own_d" });
      await Promise.all([c.waitFor(welcome), d.waitFor(welcome)]);
      const fifth = await open().ended;
      assert.equal(fifth?.code, status.RESOURCE_EXHAUSTED);
      assert.match(fifth!.details, /MAX_SESSIONS=4/);
      const listed = await new AdminClient(orchestrator.grpcAddress).getInstance("shared_a");
      assert.equal(listed.instance?.state, 1, "the open sessions are untouched");
      // Once one ends, another is admitted.
      a.close();
      await waitUntil(async () => (await new AdminClient(orchestrator.grpcAddress).getInstance("shared_a")).instance?.state === 2, 3_000, "shared_a to be gone");
      const again = open();
      again.hello({ instanceId: "again" });
      await again.waitFor(welcome);
      for (const s of [b, c, d, again]) s.close();
    } finally {
      shared.close();
    }
  });

  test("a flood ends that session with RESOURCE_EXHAUSTED, as a broken connection; an instance next to it sees nothing", async () => {
    const quiet = open();
    quiet.hello({ instanceId: "quiet" });
    await quiet.waitFor(welcome);
    const noisy = open();
    noisy.hello({ instanceId: "noisy" });
    await noisy.waitFor(welcome);
    for (let i = 0; i < 200; i++) noisy.send({ $case: "heartbeat", value: { runningStreams: 0, seq: 0 } });
    const ended = await noisy.ended;
    assert.equal(ended?.code, status.RESOURCE_EXHAUSTED);
    assert.match(ended!.details, /SESSION_MESSAGES_PER_SECOND=20/);
    const admin = new AdminClient(orchestrator.grpcAddress);
    await waitUntil(async () => (await admin.getInstance("noisy")).instance?.state === 2, 3_000, "noisy to be disconnected (not left)");
    assert.equal((await admin.getInstance("quiet")).instance?.state, 1, "quiet is still connected");
    // Its session is still open a while later: a heartbeat with a seq is still acknowledged.
    quiet.send({ $case: "heartbeat", value: { runningStreams: 0, seq: 7 } });
    await quiet.waitFor((m) => (m.msg?.$case === "heartbeatAck" && m.msg.value.seq === 7 ? true : undefined), 2_000);
    admin.close();
    quiet.close();
  });

  test("hellos that break a rule are refused with INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the field", async () => {
    const cases: Array<[object, status, RegExp]> = [
      [{ instanceId: "too_many_held", capacity: 2, held: Array.from({ length: 19 }, (_, i) => ({ streamId: `s${i}`, epoch: 1 })) }, status.INVALID_ARGUMENT, /hello\.held: must list at most 18 streams with capacity 2/],
      [{ instanceId: "bad\uFFFDutf8" }, status.INVALID_ARGUMENT, /hello\.instance_id: must be valid UTF-8/],
      [{ instanceId: "c1\u0085control" }, status.INVALID_ARGUMENT, /hello\.instance_id: must not contain control characters/],
      [{ instanceId: "huge", version: "v".repeat(2_200_000) }, status.RESOURCE_EXHAUSTED, /a Connect message may be at most 2097152 bytes/],
    ];
    for (const [hello, code, message] of cases) {
      const session = open();
      session.hello(hello as { instanceId: string });
      const ended = await session.ended;
      assert.equal(ended?.code, code, JSON.stringify(hello).slice(0, 80));
      assert.match(ended!.details, message);
    }
  });

  test("a leave with a reason longer than 256 characters is refused", async () => {
    const session = open();
    session.hello({ instanceId: "long_leave" });
    await session.waitFor(welcome);
    session.send({ $case: "leave", value: { reason: "x".repeat(300), returnWithinMs: 0 } });
    const ended = await session.ended;
    assert.equal(ended?.code, status.INVALID_ARGUMENT);
    assert.match(ended!.details, /leave\.reason: must be at most 256/);
  });

  test("HTTP: other methods 405, long URLs 414, odd paths 404, huge headers 431", async () => {
    const base = orchestrator.httpBase;
    assert.equal((await fetch(`${base}/status`, { method: "POST" })).status, 405);
    assert.equal(await httpStatus(`${base}/status?${"a".repeat(3_000)}`, undefined), 414);
    for (const path of ["/__proto__", "/constructor", "/toString", "/%ZZ"]) assert.equal(await httpStatus(`${base}${path}`, undefined), 404, path);
    assert.equal((await fetch(`${base}/status`, { headers: { "x-big": "b".repeat(10_000) } })).status, 431);
  });
});
