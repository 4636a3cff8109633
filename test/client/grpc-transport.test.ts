/**
 * The client over real grpc-js against a minimal stub of the Connect handler (no orchestrator,
 * no database): checks that status, half-close and cancel behave as the client assumes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Server, ServerCredentials, status, type ServerDuplexStream } from "@grpc/grpc-js";
import { InstanceClient, type DisconnectedEvent, type StopReason } from "../../src/client/index.js";
import {
  OrchestratorServiceService,
  type ConnectRequest,
  type ConnectResponse,
} from "../../src/gen/orchestrator/v1/orchestrator.js";
import { stream } from "./fakes.js";
import { waitUntil } from "../helpers/wait.js";

type Call = ServerDuplexStream<ConnectRequest, ConnectResponse>;

/** Welcomes every hello, grants stream "a", and lets the test script the rest. */
class StubOrchestrator {
  readonly server = new Server();
  readonly received: Array<{ session: number; kind: string; value: unknown }> = [];
  readonly calls: Call[] = [];
  port = 0;

  async start(): Promise<void> {
    this.server.addService(OrchestratorServiceService, {
      connect: (call: Call) => {
        const session = this.calls.push(call);
        call.on("data", (request: ConnectRequest) => {
          const msg = request.msg;
          if (!msg) return;
          this.received.push({ session, kind: msg.$case, value: msg.value });
          if (msg.$case === "hello") {
            call.write({ msg: { $case: "welcome", value: { sessionId: `s${session}`, heartbeatIntervalMs: 20, leaseTtlMs: 1_000, reconnectGraceMs: 500 } } });
            call.write({ msg: { $case: "assignment", value: { seq: 1, full: true, add: [stream("a", session)], remove: [] } } });
          }
        });
        call.on("end", () => call.end());
        call.on("error", () => {});
      },
    });
    this.port = await new Promise((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))),
    );
  }

  kinds(session: number): string[] {
    return this.received.filter((r) => r.session === session).map((r) => r.kind);
  }
}

describe("InstanceClient over grpc-js", () => {
  const stub = new StubOrchestrator();
  before(() => stub.start());
  after(() => stub.server.forceShutdown());

  test("handshake, ack, heartbeats, superseded status and a clean close", async () => {
    const stops: Array<[string, StopReason]> = [];
    const disconnects: DisconnectedEvent[] = [];
    const superseded: string[] = [];
    const client = new InstanceClient({
      address: `127.0.0.1:${stub.port}`,
      instanceId: "finger_app_1",
      capacity: 5,
      backoff: { initialMs: 1, maxMs: 20 },
      superseded: { delayMs: 10 },
      onStart: () => {},
      onStop: (id, reason) => void stops.push([id, reason]),
    });
    client.on("disconnected", (e) => disconnects.push(e));
    client.on("superseded", (e) => superseded.push(e.details));
    try {
      client.start();
      await waitUntil(() => stub.kinds(1).includes("ack") && stub.kinds(1).includes("heartbeat"), 5_000, "ack and heartbeat");
      assert.deepEqual(stub.kinds(1).slice(0, 2), ["hello", "ack"]);
      assert.deepEqual(stub.received.find((r) => r.kind === "ack")?.value, { seq: 1 });
      assert.equal(client.sessionId, "s1");

      // ABORTED "superseded" arrives through grpc-js as both 'error' and 'status'.
      stub.calls[0]?.emit("error", { code: status.ABORTED, details: "superseded by another connection" });
      await waitUntil(() => superseded.length === 1, 5_000, "superseded event");
      assert.equal(disconnects[0]?.code, status.ABORTED);
      assert.deepEqual(stops, [["a", "superseded"]]);

      await waitUntil(() => client.connected && stub.kinds(2).includes("ack"), 5_000, "second session");
      assert.deepEqual((stub.received.find((r) => r.session === 2)?.value as { held: unknown[] }).held, []);
      assert.equal(client.running().get("a")?.epoch, 2);

      await client.close("test over");
      assert.deepEqual(stub.kinds(2).slice(-1), ["leave"]);
      assert.deepEqual(stops.at(-1), ["a", "shutdown"]);
      assert.equal(client.connected, false);
    } finally {
      await client.close();
    }
  });

  test("an unreachable orchestrator is retried; the hello of the eventual session is sent", async () => {
    const disconnects: DisconnectedEvent[] = [];
    // A port nothing listens on: bind one and release it.
    const probe = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      probe.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    probe.forceShutdown();
    const client = new InstanceClient({
      address: `127.0.0.1:${port}`,
      instanceId: "finger_app_2",
      capacity: 1,
      backoff: { initialMs: 1, maxMs: 20 },
      onStart: () => {},
      onStop: () => {},
    });
    client.on("disconnected", (e) => disconnects.push(e));
    try {
      client.start();
      await waitUntil(() => disconnects.length >= 2, 10_000, "two failed attempts");
      assert.ok(disconnects.every((d) => d.code === status.UNAVAILABLE && d.sessionId === undefined));
      assert.equal(client.connected, false);
    } finally {
      await client.close();
    }
  });
});
