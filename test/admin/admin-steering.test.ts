import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { InstanceClient } from "../../src/client/index.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { DynamicClient } from "../helpers/dynamic-client.js";
import { ledgerClient, StreamRunLog } from "../helpers/fleet-of-clients.js";
import { RawSession } from "../helpers/raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";

const ENV = { HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "1500", RECONNECT_GRACE_MS: "500" };
const WATCH_GRACE = 200;

describe("steering the fleet: drain, freeze, rebalance, watch", () => {
  let orchestrator: TestOrchestrator;
  let admin: DynamicClient;
  let ledger: StreamRunLog;
  const clients: InstanceClient[] = [];

  async function boot(streams: number, instances: Array<[string, number]>, env: Record<string, string> = {}) {
    orchestrator = await startTestOrchestrator({ ...ENV, ...env });
    const stub = new AdminClient(orchestrator.grpcAddress);
    await stub.upsert(streamIds(streams).map((id) => ({ id })));
    stub.close();
    ledger = new StreamRunLog();
    for (const [id, capacity] of instances) join(id, capacity, 100);
    admin = await DynamicClient.connect(orchestrator.grpcAddress, "orchestrator.v1.AdminService");
  }
  function join(id: string, capacity: number, stopDelayMs = 0): InstanceClient {
    const c = ledgerClient(ledger, orchestrator.grpcAddress, id, capacity, { stopDelayMs });
    clients.push(c);
    c.start();
    return c;
  }
  const sizes = () => clients.map((c) => c.running().size);

  afterEach(async () => {
    admin.close();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await orchestrator.close();
  });

  test("drain moves an instance's streams off without any overlap; undrain lets it take some back", async () => {
    await boot(12, [["a", 10], ["b", 10], ["c", 10]]);
    await waitUntil(() => sizes().every((n) => n === 4), 3_000, "4/4/4");
    const drained = await admin.call("DrainInstance", { instance_id: "a" });
    assert.equal((drained.instance as { state: string }).state, "INSTANCE_STATE_DRAINING");
    await waitUntil(() => sizes()[0] === 0 && sizes()[1] === 6 && sizes()[2] === 6, 3_000, "a drained to 0/6/6");
    assert.deepEqual(ledger.violations, [], "no stream ran on two instances at once");
    const info = await admin.call("GetInstance", { instance_id: "a" });
    assert.equal((info.instance as { fairShare?: number }).fairShare ?? 0, 0);
    assert.equal((info.instance as { draining: boolean }).draining, true);

    await admin.call("UndrainInstance", { instance_id: "a" });
    await waitUntil(() => sizes().every((n) => n === 4), 3_000, "back to 4/4/4");
    assert.deepEqual(ledger.violations, []);
  });

  test("a freeze stops moves between live instances but not failover; it can end by itself", async () => {
    await boot(8, [["a", 10], ["b", 10]]);
    await waitUntil(() => sizes()[0] === 4 && sizes()[1] === 4, 3_000, "4/4");
    const frozen = await admin.call("FreezeRebalancing", { reason: "deploy" });
    assert.equal(frozen.frozen, true);
    assert.equal((await admin.call("GetStatus", {})).rebalancingFrozen, true);

    const c = join("c", 10);
    let joined = false;
    c.on("assignment", (e) => (joined ||= e.full && e.acked));
    // Instead of sleeping: c applied its (empty) full set and the round its hello asked for has
    // run. A move would have begun with a revocation that round wrote before telling anyone.
    await waitUntil(() => joined, 3_000, "c to join");
    await orchestrator.app.coordinator.settled();
    const revoking = await orchestrator.app.db.selectFrom("assignments").select("stream_id").where("state", "=", "revoking").execute();
    assert.deepEqual(revoking, [], "no move started");
    assert.deepEqual(sizes(), [4, 4, 0], "nothing moves to the newcomer while frozen");
    const round = await admin.call("Rebalance", {});
    assert.ok(Number(round.deferred) > 0, "the round reports the moves it held back");
    assert.equal((round.moves as unknown[] | undefined)?.length ?? 0, 0);

    await clients[0]!.close();
    await waitUntil(() => sizes()[1]! + sizes()[2]! === 8, 1_500, "a's streams to move despite the freeze");

    await admin.call("FreezeRebalancing", { duration_seconds: 1, reason: "short" });
    await waitUntil(async () => (await admin.call("GetStatus", {})).rebalancingFrozen !== true, 2_500, "the freeze to end by itself");
    await waitUntil(() => sizes()[1] === 4 && sizes()[2] === 4, 3_000, "rebalance after the freeze");
    assert.deepEqual(ledger.violations, []);
  });

  test("WatchEvents replays history and reports a failover as it happens", async () => {
    // A shorter grace than the other tests': the failover below waits for it.
    await boot(4, [["b", 10]], { RECONNECT_GRACE_MS: String(WATCH_GRACE) });
    await waitUntil(() => sizes()[0] === 4, 3_000, "b to own all");
    // "a" is a bare session, so the test can break its connection the way a crash does.
    const a = new RawSession(orchestrator.grpcAddress).autoAck();
    a.hello({ instanceId: "a", capacity: 10 });
    a.heartbeatEvery(200);
    await waitUntil(() => a.owned().size === 2 && sizes()[0] === 2, 3_000, "2/2");

    const watch = admin.stream("WatchEvents", { history: 50 });
    const seen: Array<{ kind: string; instanceId?: string; streamId?: string; received: number }> = [];
    const reading = (async () => {
      for await (const message of watch) seen.push({ ...(message.event as { kind: string }), received: Date.now() });
    })().catch(() => undefined);
    const aStreams = [...a.owned().keys()];
    // The whole history, up to the grants to a, must have arrived before a breaks: a tail of it
    // still arriving afterwards would pass for events of the failover.
    await waitUntil(
      () =>
        seen.filter((e) => e.kind === "instance.joined").length === 2 &&
        aStreams.every((id) => seen.some((e) => e.kind === "stream.assigned" && e.streamId === id && e.instanceId === "a")),
      2_000,
      "history with both joins and the grants to a",
    );

    const brokeAt = Date.now();
    a.close();
    await waitUntil(
      () => aStreams.every((id) => seen.some((e) => e.received >= brokeAt && e.kind === "stream.assigned" && e.streamId === id && e.instanceId === "b")),
      5_000,
      "reassignment events",
    );
    // The failover in order: a disconnected, then dead, then each of its streams granted to b. On a busy
    // machine the tail of the history (older grants) may still arrive after the break, so only the order counts.
    const after = seen.filter((e) => e.received >= brokeAt);
    const disconnected = after.findIndex((e) => e.kind === "instance.disconnected" && e.instanceId === "a");
    const dead = after.findIndex((e) => e.kind === "instance.dead" && e.instanceId === "a");
    const order = after.map((e) => `${e.kind}:${e.instanceId ?? ""}:${e.streamId ?? ""}`).join(",");
    assert.ok(disconnected >= 0 && disconnected < dead, order);
    for (const id of aStreams) assert.ok(after.findLastIndex((e) => e.kind === "stream.assigned" && e.streamId === id && e.instanceId === "b") > dead, `${id} granted to b after a was dead: ${order}`);
    for (const e of seen.filter((x) => x.received >= brokeAt && x.kind === "stream.assigned" && aStreams.includes(x.streamId ?? ""))) {
      // They move once a's lease (renewed by its last heartbeat, margin included) is over, which outlasts the grace.
      const movesBy = Number(ENV.LEASE_TTL_MS) + leaseMarginMs(Number(ENV.LEASE_TTL_MS));
      assert.ok(e.received - brokeAt < movesBy + 1_000, `reported as it happened (${e.received - brokeAt} ms after the break)`);
    }
    watch.cancel();
    await reading;
  });
});
