import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { credentials, ServerCredentials, status, type ClientReadableStream, type Server, type ServiceError } from "@grpc/grpc-js";
import { EventLog } from "../../src/coordinator/event-log.js";
import { AdminServiceClient, AdminServiceService, type WatchEventsResponse } from "../../src/gen/orchestrator/v1/admin.js";
import { bindGrpcServer, createGrpcServer } from "../../src/grpc/grpc-server.js";
import { watchEvents } from "../../src/grpc/watch-events.js";
import { sleep, waitUntil } from "../helpers/wait.js";

const BURST = 5_000;

/** A watcher that counts what it receives and how it ended. */
function watch(client: AdminServiceClient): { call: ClientReadableStream<WatchEventsResponse>; received: () => number; ended: Promise<ServiceError | null> } {
  const call = client.watchEvents({ history: 0, instanceId: "", streamId: "", kinds: [] });
  let received = 0;
  call.on("data", () => received++);
  const ended = new Promise<ServiceError | null>((resolve) => {
    call.on("error", (e: ServiceError) => resolve(e));
    call.on("end", () => resolve(null));
  });
  return { call, received: () => received, ended };
}

/** The server side of a new watch listens to the log (events before that would not be sent); no other watch is open. */
function subscribed(log: EventLog): Promise<number> {
  return waitUntil(() => log.listenerCount("event") === 1, 2_000, "the watch to listen to the log");
}

function burst(log: EventLog, count: number): void {
  for (let i = 0; i < count; i++) log.append({ kind: "stream.assigned", at: new Date(), streamId: `s-${i}`, instanceId: "a", detail: { reason: "new" } });
}

describe("WatchEvents with a watcher that does not keep up", () => {
  const log = new EventLog();
  let server: Server;
  let client: AdminServiceClient;

  before(async () => {
    server = createGrpcServer();
    server.addService(AdminServiceService, { watchEvents: watchEvents(log, { maxBehindMs: 300, maxBuffered: 100_000, maxWatchers: 3 }) } as never);
    const port = await bindGrpcServer(server, "127.0.0.1", 0, ServerCredentials.createInsecure());
    client = new AdminServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  after(() => {
    client.close();
    server.forceShutdown();
  });

  test("a reader that keeps up survives a burst larger than the flow-control window", async () => {
    const w = watch(client);
    await subscribed(log);
    burst(log, BURST);
    await waitUntil(() => w.received() === BURST, 5_000, "the whole burst");
    await sleep(400);
    burst(log, 1);
    await waitUntil(() => w.received() === BURST + 1, 2_000, "the next event");
    w.call.cancel();
    assert.equal((await w.ended)?.code, status.CANCELLED);
    await waitUntil(() => log.listenerCount("event") === 0, 2_000, "the cancelled watch to stop listening");
  });

  test("a reader that stops reading is ended with RESOURCE_EXHAUSTED once it stayed behind too long", { timeout: 20_000 }, async () => {
    const w = watch(client);
    await subscribed(log);
    w.call.pause();
    burst(log, BURST);
    await sleep(500);
    burst(log, 1);
    w.call.resume();
    const error = await w.ended;
    assert.equal(error?.code, status.RESOURCE_EXHAUSTED);
    assert.match(error!.details, /watcher too slow/);
    assert.ok(w.received() <= BURST, `got ${w.received()}`);
    assert.equal(log.listenerCount("event"), 0, "its listener is gone");
  });

  test("at most MAX_WATCHERS watch at once: one more gets RESOURCE_EXHAUSTED; once one leaves, another may come", async () => {
    const open = [watch(client), watch(client), watch(client)];
    await waitUntil(() => log.listenerCount("event") === 3, 2_000, "three watchers listening");
    const fourth = watch(client);
    const refused = await fourth.ended;
    assert.equal(refused?.code, status.RESOURCE_EXHAUSTED);
    assert.match(refused!.details, /MAX_WATCHERS=3/);
    open[0]!.call.cancel();
    await waitUntil(() => log.listenerCount("event") === 2, 2_000, "the cancelled watcher to leave");
    const fifth = watch(client);
    await waitUntil(() => log.listenerCount("event") === 3, 2_000, "a new watcher admitted");
    for (const w of [open[1]!, open[2]!, fifth]) w.call.cancel();
    await waitUntil(() => log.listenerCount("event") === 0, 2_000, "all gone");
  });
});

describe("WatchEvents when no more events will come", () => {
  test("a shutdown or a lost leadership ends every watcher with UNAVAILABLE and the reason, and refuses new ones", async () => {
    const log = new EventLog();
    const server = createGrpcServer();
    server.addService(AdminServiceService, { watchEvents: watchEvents(log) } as never);
    const port = await bindGrpcServer(server, "127.0.0.1", 0, ServerCredentials.createInsecure());
    const client = new AdminServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      const first = watch(client);
      await subscribed(log);
      log.end("this orchestrator replica lost its leadership; the leader is at b:50051");
      const ended = await first.ended;
      assert.equal(ended?.code, status.UNAVAILABLE);
      assert.match(ended?.details ?? "", /lost its leadership; the leader is at b:50051/);
      const later = await watch(client).ended;
      assert.equal(later?.code, status.UNAVAILABLE);
      assert.equal(log.listenerCount("event"), 0, "nobody listens any more");
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
