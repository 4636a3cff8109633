import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { InstanceClient } from "../../src/client/index.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { ledgerClient, StreamRunLog } from "../helpers/fleet-of-clients.js";
import { freePort } from "../helpers/process.js";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

const ENV = { HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "1500", RECONNECT_GRACE_MS: "500" };
const STRICT_LEASE = 1_000;

describe("the TypeScript instance client against the real server", () => {
  let database: TestDatabase;
  let orchestrator: TestOrchestrator | undefined;
  let env: Record<string, string>;
  const clients: InstanceClient[] = [];
  const track = (c: InstanceClient) => (clients.push(c), c.start(), c);

  before(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await orchestrator?.close();
    orchestrator = undefined;
    // Each test starts from an empty fleet and catalog.
    const { default: pg } = await import("pg");
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    await c.query("truncate orchestrator.events, orchestrator.assignments, orchestrator.streams, orchestrator.instances");
    await c.end();
  });
  after(() => database.drop());

  async function boot(extra: Record<string, string> = {}): Promise<TestOrchestrator> {
    env = { ...ENV, GRPC_PORT: String(await freePort()), ...extra };
    orchestrator = await startTestOrchestrator(env, database);
    return orchestrator;
  }

  async function catalog(o: TestOrchestrator, n: number): Promise<void> {
    const admin = new AdminClient(o.grpcAddress);
    await admin.upsert(streamIds(n).map((id) => ({ id })));
    admin.close();
  }

  test("a move stops the stream on the old owner before it starts on the new one", async () => {
    const o = await boot();
    await catalog(o, 10);
    const ledger = new StreamRunLog();
    const a = track(ledgerClient(ledger, o.grpcAddress, "a", 10, { stopDelayMs: 200 }));
    await waitUntil(() => a.running().size === 10, 3_000, "a to run everything");
    const b = track(ledgerClient(ledger, o.grpcAddress, "b", 10, { stopDelayMs: 200 }));
    await waitUntil(() => a.running().size === 5 && b.running().size === 5, 5_000, "5/5");
    assert.deepEqual(ledger.violations, []);
    for (const id of b.running().keys()) {
      const stop = ledger.log.find((e) => e.stream === id && e.instance === "a" && e.what === "stop");
      const start = ledger.log.find((e) => e.stream === id && e.instance === "b" && e.what === "start");
      assert.ok(stop && start && start.at >= stop.at, `${id}: started on b only after a stopped it`);
    }
  });

  test("close() stops everything and leaves; the rest of the fleet takes over at once", async () => {
    const o = await boot();
    await catalog(o, 8);
    const ledger = new StreamRunLog();
    const a = track(ledgerClient(ledger, o.grpcAddress, "a", 10));
    const b = track(ledgerClient(ledger, o.grpcAddress, "b", 10));
    await waitUntil(() => a.running().size === 4 && b.running().size === 4, 5_000, "4/4");
    const closed = Date.now();
    await a.close("maintenance");
    assert.equal(a.running().size, 0);
    await waitUntil(() => b.running().size === 8, 1_000, "b to take everything");
    assert.ok(Date.now() - closed < 1_500);
    assert.deepEqual(ledger.violations, []);
  });

  test("streams keep running while the orchestrator restarts, and nothing moves after it", async () => {
    let o = await boot();
    await catalog(o, 9);
    const ledger = new StreamRunLog();
    const fleet = ["a", "b", "c"].map((id) => track(ledgerClient(ledger, o.grpcAddress, id, 10)));
    await waitUntil(() => fleet.every((c) => c.running().size === 3), 5_000, "3/3/3");
    const before = fleet.map((c) => new Map([...c.running()].map(([id, s]) => [id, s.epoch])));
    const logLength = ledger.log.length;

    const disconnected = new Set<InstanceClient>();
    const resynced = new Set<InstanceClient>();
    for (const c of fleet) {
      c.on("disconnected", () => disconnected.add(c));
      c.on("assignment", (e) => e.full && e.acked && resynced.add(c));
    }
    await o.app.stop();
    await waitUntil(() => disconnected.size === 3, 2_000, "every client to see its session end");
    assert.ok(fleet.every((c) => c.running().size === 3), "instances keep running while the orchestrator is away");
    o = await startTestOrchestrator(env, database);
    orchestrator = o;
    // Instead of sleeping: each client has applied and acknowledged its new full set, and the
    // rounds their hellos asked for have run. A move would have started with a revocation
    // written by one of those rounds before it was sent, so no row may be revoking.
    await waitUntil(() => resynced.size === 3, 5_000, "clients to reconnect and apply their full sets");
    await o.app.coordinator.settled();
    const revoking = await o.app.db.selectFrom("assignments").select("stream_id").where("state", "=", "revoking").execute();
    assert.deepEqual(revoking, [], "no move started");
    // The ledger covers the whole time away (about a second: the go_away asks clients to wait that long).
    assert.equal(ledger.log.length, logLength, "no stream was stopped or started");
    fleet.forEach((c, i) => assert.deepEqual(new Map([...c.running()].map(([id, s]) => [id, s.epoch])), before[i]));
  });

  test("strict mode stops the streams once the lease cannot have been renewed", async () => {
    // A shorter lease than the other tests': the wait for it to run out is most of this test. No
    // restart lease: its go_away would promise one (test/protocol/restart-strict.test.ts).
    const o = await boot({ HEARTBEAT_INTERVAL_MS: "200", LEASE_TTL_MS: String(STRICT_LEASE), RESTART_LEASE_MS: "0" });
    await catalog(o, 3);
    const ledger = new StreamRunLog();
    const strict = track(ledgerClient(ledger, o.grpcAddress, "strict", 10, { strict: true }));
    await waitUntil(() => strict.running().size === 3, 3_000, "strict to run everything");
    const lost = new Promise<number>((resolve) => strict.once("leaseLost", () => resolve(Date.now())));
    const stoppedAt = Date.now();
    await o.app.stop();
    const at = await lost;
    assert.equal(strict.running().size, 0);
    assert.ok(at - stoppedAt <= STRICT_LEASE + 1_000, `stopped ${at - stoppedAt} ms after the orchestrator went away`);
  });
});
