import { after, before, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { DynamicClient } from "../helpers/dynamic-client.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";

/** Counts calls that reach grpc-js, to prove a rejected request was never sent. */
function spyOnCalls() {
  return {
    unary: mock.method(grpc.Client.prototype, "makeUnaryRequest"),
    streaming: mock.method(grpc.Client.prototype, "makeServerStreamRequest"),
    count(): number {
      return this.unary.mock.callCount() + this.streaming.mock.callCount();
    },
    restore(): void {
      this.unary.mock.restore();
      this.streaming.mock.restore();
    },
  };
}

function isServiceError(code: grpc.status, details: RegExp) {
  return (error: unknown) => {
    const e = error as grpc.ServiceError;
    assert.ok(e instanceof Error, "not an Error");
    assert.equal(e.code, code, `code ${e.code} (${e.details})`);
    assert.match(e.details, details);
    assert.ok(e.metadata instanceof grpc.Metadata, "ServiceError metadata missing");
    return true;
  };
}

describe("dynamic (reflection-driven) gRPC client", () => {
  let orchestrator: TestOrchestrator;
  let health: DynamicClient;
  let admin: DynamicClient;

  before(async () => {
    orchestrator = await startTestOrchestrator();
    health = await DynamicClient.connect(orchestrator.grpcAddress, "grpc.health.v1.Health");
    admin = await DynamicClient.connect(orchestrator.grpcAddress, "orchestrator.v1.AdminService");
  });
  after(async () => {
    health?.close();
    admin?.close();
    await orchestrator?.close();
  });

  test("connecting to a service the server does not list fails, naming it and what is listed", async () => {
    await assert.rejects(
      DynamicClient.connect(orchestrator.grpcAddress, "no.such.Service"),
      (e: Error) => /no\.such\.Service is not listed/.test(e.message) && e.message.includes("orchestrator.v1.AdminService"),
    );
  });

  test("methods come from the reflected descriptors", () => {
    assert.deepEqual(health.methods(), ["Check", "Watch"]);
    for (const name of ["UpsertStreams", "DeleteStreams", "WatchEvents"]) assert.ok(admin.methods().includes(name), name);
  });

  test("Health/Check renders the status enum by name", async () => {
    assert.deepEqual(await health.call("Check", {}), { status: "SERVING" });
    assert.deepEqual(await health.call("Check", { service: "orchestrator.v1.AdminService" }, { deadlineMs: 5_000 }), { status: "SERVING" });
  });

  test("a gRPC failure rejects with the grpc-js ServiceError untouched", async () => {
    await assert.rejects(health.call("Check", { service: "no.such.Service" }), isServiceError(grpc.status.NOT_FOUND, /./));
  });

  test("UpsertStreams then DeleteStreams with JSON names and proto names", async () => {
    assert.deepEqual(await admin.call("UpsertStreams", { streams: [{ id: "a", url: "http://radio.example/a" }] }), { created: 1 });
    assert.deepEqual(await admin.call("DeleteStreams", { stream_ids: ["a", "b"] }), { deleted: 1, notFound: ["b"] });
    // Gone for real: deleting again finds nothing (zero counts are omitted, as grpcurl prints them).
    assert.deepEqual(await admin.call("DeleteStreams", { streamIds: ["a"] }), { notFound: ["a"] });
  });

  test("an invalid request is INVALID_ARGUMENT with details naming the field", async () => {
    await assert.rejects(
      admin.call("UpsertStreams", { streams: [{ id: "", url: "http://radio.example/x" }] }),
      isServiceError(grpc.status.INVALID_ARGUMENT, /^streams\[0\]\.id: must not be empty$/),
    );
    await assert.rejects(
      admin.call("DeleteStreams", { streamIds: ["ok", ""] }),
      isServiceError(grpc.status.INVALID_ARGUMENT, /^stream_ids\[1\]: must not be empty$/),
    );
  });

  test("an unknown method or field is rejected before anything is sent", async () => {
    const spy = spyOnCalls();
    try {
      await assert.rejects(admin.call("DeleteStream", { streamIds: ["a"] }), (e: Error) => {
        assert.ok(!("code" in e), "must not be a gRPC error");
        assert.match(e.message, /no method "DeleteStream"/);
        assert.match(e.message, /DeleteStreams/, "should list the methods that exist");
        return true;
      });
      await assert.rejects(
        admin.call("UpsertStreams", { streams: [{ id: "x", uri: "http://radio.example/x" }] }),
        /invalid orchestrator\.v1\.UpsertStreamsRequest: .*"uri"/,
      );
      await assert.rejects(admin.call("DeleteStreams", { streamId: ["a"] }), /"streamId"/);
      await assert.rejects(admin.call("DeleteStreams", { streamIds: "a" }), /DeleteStreamsRequest/);
      assert.throws(() => health.stream("Wait", {}), /no method "Wait".*Check, Watch/);
      assert.throws(() => health.stream("Watch", { servce: "" }), /"servce"/);
      assert.equal(spy.count(), 0, "a rejected request reached grpc-js");
      // Control: the spy does see a real call, so the zero above means something.
      await admin.call("DeleteStreams", { streamIds: ["never-existed"] });
      assert.equal(spy.count(), 1);
    } finally {
      spy.restore();
    }
  });

  test("call() and stream() refuse the wrong kind of method", async () => {
    await assert.rejects(health.call("Watch", {}), /Watch is server_streaming, not unary \(use stream\(\)\)/);
    assert.throws(() => health.stream("Check", {}), /Check is unary, not server_streaming \(use call\(\)\)/);
  });

  // Watch never ends by itself, so a broken stream would hang: fail instead.
  const streaming = { timeout: 10_000 };

  test("Health/Watch yields SERVING and ends quietly when cancelled", streaming, async () => {
    const watch = health.stream("Watch", { service: "" });
    const iterator = watch[Symbol.asyncIterator]();
    assert.deepEqual(await iterator.next(), { done: false, value: { status: "SERVING" } });
    // A pending next() must be released by cancel(), not left waiting for a message that never comes.
    const pending = iterator.next();
    watch.cancel();
    assert.deepEqual(await pending, { done: true, value: undefined });
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });

  test("breaking out of for-await cancels the underlying call", streaming, async () => {
    const spy = spyOnCalls();
    try {
      const watch = health.stream("Watch", { service: "orchestrator.v1.AdminService" });
      const call = spy.streaming.mock.calls[0]?.result as grpc.ClientReadableStream<Buffer>;
      // Listen for 'status' rather than once(): once() rejects on the CANCELLED 'error' that comes first.
      const finished = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
      const seen: unknown[] = [];
      for await (const message of watch) {
        seen.push(message);
        break;
      }
      assert.deepEqual(seen, [{ status: "SERVING" }]);
      assert.equal((await finished).code, grpc.status.CANCELLED);
    } finally {
      spy.restore();
    }
  });

  test("a deadline ends a stream with DEADLINE_EXCEEDED after the messages before it", streaming, async () => {
    const received: unknown[] = [];
    await assert.rejects(async () => {
      for await (const message of health.stream("Watch", {}, { deadlineMs: 300 })) received.push(message);
    }, isServiceError(grpc.status.DEADLINE_EXCEEDED, /./));
    assert.deepEqual(received, [{ status: "SERVING" }]);
  });
});
