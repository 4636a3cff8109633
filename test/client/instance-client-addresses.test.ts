/**
 * The client given several orchestrator addresses (one leader, standbys) on a fake transport:
 * the order it dials them in, following a go_away that names the leader, replicas that name
 * each other, and a name with several records.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { pino } from "pino";
import type { HostResolver, WelcomeEvent } from "../../src/client/index.js";
import { closeClientsAfterEach, connect, setup } from "./client-setup.js";
import { deferred, stream, type FakeCall } from "./fakes.js";
import { waitUntil } from "../helpers/wait.js";

closeClientsAfterEach();

// Long enough that a backoff taken by mistake shows as a missing call (a wait under 2 s is a 0.3 % chance).
const SLOW_BACKOFF = { initialMs: 600_000, maxMs: 600_000 };

/** A logger whose records the test reads. */
function recordingLogger() {
  const records: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, messages: () => records.map((r) => String(r.msg)) };
}

describe("InstanceClient with several orchestrator addresses", () => {
  test("dials them in order until one welcomes, and says which one it is on", async () => {
    const s = setup({ address: " a:1, b:1 ,c:1", backoff: SLOW_BACKOFF });
    const welcomes: WelcomeEvent[] = [];
    s.client.on("welcome", (w) => welcomes.push(w));
    s.transport.onOpen = (call) => {
      if (call.endpoint?.address === "a:1") call.finish(status.UNAVAILABLE, "connection refused");
      if (call.endpoint?.address === "b:1") call.standby();
    };
    s.client.start();
    const leader = await s.transport.call(2);
    leader.welcome("c-1");
    await waitUntil(() => s.client.connected);
    assert.deepEqual(s.transport.addresses(), ["a:1", "b:1", "c:1"], "a refusal and a standby cost no backoff");
    assert.equal(s.client.address, "c:1");
    assert.deepEqual(welcomes.map((w) => [w.sessionId, w.address]), [["c-1", "c:1"]]);
    assert.deepEqual(s.events.disconnected.map((d) => [d.address, d.code]), [["a:1", status.UNAVAILABLE], ["b:1", status.UNAVAILABLE]]);
  });

  test("a go_away naming the leader is dialled next, at once, even off the list; its hello holds what ran", async () => {
    const s = setup({ address: ["a:1", "b:1"], backoff: SLOW_BACKOFF });
    s.client.start();
    const first = await s.transport.call(0);
    first.welcome("a-1");
    first.assign(1, true, [stream("x", 3)]);
    await waitUntil(() => first.acks().length === 1);
    // A deposed leader: go_away naming the new one, then UNAVAILABLE.
    first.goAway("leadership lost", "z:9");
    first.finish(status.UNAVAILABLE, "leadership lost; the leader is z:9");
    const next = await s.transport.call(1);
    assert.equal(next.endpoint?.address, "z:9");
    assert.deepEqual(next.hello().held, [{ streamId: "x", epoch: 3 }]);
    assert.deepEqual(s.stopped, [], "streams keep running through the switch");
    next.welcome("z-1");
    await waitUntil(() => s.client.sessionId === "z-1");
    assert.equal(s.client.address, "z:9");
  });

  test("a go_away that arrives while an assignment is being applied still names the leader when the call ends at once", async () => {
    const gate = deferred();
    let starting = false;
    const s = setup({ address: "a:1,b:1", backoff: SLOW_BACKOFF, onStart: () => ((starting = true), gate.promise) });
    const first = await connect(s);
    first.assign(1, true, [stream("x")]);
    await waitUntil(() => starting);
    first.goAway("leadership lost", "z:9");
    first.finish(status.UNAVAILABLE, "leadership lost");
    await waitUntil(() => s.events.disconnected.length === 1);
    gate.resolve();
    assert.equal((await s.transport.call(1)).endpoint?.address, "z:9", "the go_away queued behind the assignment was not lost with it");
  });

  test("replicas naming each other are followed addresses + 1 times in a row, then it backs off", async () => {
    const log = recordingLogger();
    const s = setup({ address: "a:1,b:1", backoff: SLOW_BACKOFF, logger: log.logger });
    s.transport.onOpen = (call: FakeCall) => call.standby(call.endpoint?.address === "a:1" ? "b:1" : "a:1");
    s.client.start();
    await waitUntil(() => log.messages().includes("replicas keep naming each other as the leader; backing off"), 2_000, () => log.messages().join("\n"));
    assert.deepEqual(s.transport.addresses(), ["a:1", "b:1", "a:1", "b:1"]);
    assert.equal(log.messages().filter((m) => m === "following the orchestrator's go_away to the leader").length, 3);
  });

  test("a name with several records is dialled record by record, with the name kept, and resolved again each cycle", async () => {
    let records = ["10.0.0.1", "10.0.0.2"];
    const asked: string[] = [];
    const resolver: HostResolver = async (host) => {
      asked.push(host);
      return records;
    };
    const s = setup({ address: "orch.test:50051", resolver });
    s.transport.onOpen = (call) => {
      if (call.endpoint?.address !== "10.0.0.2:50051") call.finish(status.UNAVAILABLE, "connection refused");
    };
    s.client.start();
    const leader = await s.transport.call(1);
    leader.welcome("s1");
    await waitUntil(() => s.client.connected);
    assert.deepEqual(s.transport.calls.map((c) => c.endpoint), [
      { address: "10.0.0.1:50051", serverName: "orch.test" },
      { address: "10.0.0.2:50051", serverName: "orch.test" },
    ]);
    assert.equal(s.client.address, "10.0.0.2:50051");

    records = ["10.0.0.3", "10.0.0.2"];
    s.transport.onOpen = (call) => call.finish(status.UNAVAILABLE, "connection refused");
    leader.finish(status.UNAVAILABLE, "connection reset");
    await s.transport.call(3);
    assert.deepEqual(s.transport.addresses().slice(2, 4), ["10.0.0.2:50051", "10.0.0.3:50051"], "the leader first, then the new record");
    assert.deepEqual(asked.slice(0, 2), ["orch.test", "orch.test"], "one lookup per cycle");
  });
});
