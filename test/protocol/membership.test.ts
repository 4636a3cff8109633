import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { useRawFleet } from "../helpers/raw-fleet.js";
import { fullAssignment } from "../helpers/raw-session.js";
import { sleep, waitUntil } from "../helpers/wait.js";

const LEASE = 1_500;
const GRACE = 800;

// The rules run on the in-memory store (test/coordinator/membership.test.ts); these check
// them end to end over gRPC and PostgreSQL, with the status codes sessions end with.
describe("supersede, leases, grace and leave", () => {
  const fleet = useRawFleet({ HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: String(LEASE), RECONNECT_GRACE_MS: String(GRACE) }, 10);
  const open = fleet.open;

  async function ownersInDb(): Promise<Map<string, string>> {
    const rows = await fleet.orchestrator.app.db.selectFrom("assignments").select(["stream_id", "instance_id"]).execute();
    return new Map(rows.map((r) => [r.stream_id, r.instance_id]));
  }

  test("a second connection supersedes the first, which ends saying why, and keeps the streams", async () => {
    const first = open("a");
    first.heartbeatEvery(200);
    await waitUntil(() => first.owned().size === 10, 2_000, "a to own all streams");
    const epochs = first.owned();

    const second = open("a");
    const ended = await first.ended;
    assert.equal(ended?.code, status.ABORTED);
    assert.match(ended!.details, /superseded/);
    const full = await second.waitFor(fullAssignment);
    assert.deepEqual(new Map(full.add.map((s) => [s.id, s.epoch])), epochs, "same streams, same epochs");
    await sleep(300);
    assert.equal(second.assignments().filter((a) => !a.full).length, 0, "nothing reassigned");
    assert.deepEqual([...(await ownersInDb()).values()].every((o) => o === "a"), true);
    const kinds = fleet.orchestrator.app.coordinator.events.recent(100, (e) => e.instanceId === "a").map((e) => e.kind);
    assert.ok(kinds.includes("instance.superseded"), kinds.join(","));
    assert.ok(!kinds.includes("instance.disconnected"), `ending the old session is not a disconnect: ${kinds.join(",")}`);
  });

  test("a silent instance is dead after the lease and its streams move within lease + 1 s", async () => {
    const healthy = open("healthy");
    healthy.heartbeatEvery(200);
    await waitUntil(() => healthy.owned().size === 10, 2_000, "healthy to own all");
    const silent = open("silent");
    // It acknowledges what it is given, then says nothing more.
    await waitUntil(() => silent.owned().size === 5 && healthy.owned().size === 5, 3_000, "5/5 split");
    await sleep(100);
    const lastMessage = silent.lastSentAt;
    await waitUntil(() => healthy.owned().size === 10, LEASE + 1_500, "healthy to own everything again");
    const took = Date.now() - lastMessage;
    assert.ok(took >= LEASE - 50 && took <= LEASE + 1_000, `failover ${took} ms after the last message`);
    const ended = await silent.ended;
    assert.equal(ended?.code, status.UNAVAILABLE);
    assert.match(ended!.details, /lease expired/);
  });

  test("a broken connection keeps its streams for the grace, then they move within grace + 1 s", async () => {
    const a = open("a");
    a.heartbeatEvery(200);
    await waitUntil(() => a.owned().size === 10, 2_000, "a to own all");
    const b = open("b");
    b.heartbeatEvery(200);
    await waitUntil(() => a.owned().size === 5 && b.owned().size === 5, 3_000, "5/5 split");
    const broke = Date.now();
    a.close();
    await sleep(GRACE / 2);
    assert.equal(b.owned().size, 5, "nothing moves during the grace");
    await waitUntil(() => b.owned().size === 10, GRACE + 1_000, "b to get a's streams");
    const took = Date.now() - broke;
    assert.ok(took >= GRACE - 50 && took <= GRACE + 1_000, `moved after ${took} ms`);
  });

  test("after leave the streams move at once", async () => {
    const a = open("a");
    a.heartbeatEvery(200);
    const b = open("b");
    b.heartbeatEvery(200);
    await waitUntil(() => a.owned().size === 5 && b.owned().size === 5, 3_000, "5/5 split");
    const left = Date.now();
    a.send({ $case: "leave", value: { reason: "maintenance", returnWithinMs: 0 } });
    assert.equal(await a.ended, null, "leave ends the stream with OK");
    await waitUntil(() => b.owned().size === 10, 500, "b to get everything");
    assert.ok(Date.now() - left < 500);
    const kinds = (await fleet.orchestrator.app.db.selectFrom("events").select("kind").where("instance_id", "=", "a").execute()).map((e) => e.kind);
    assert.ok(kinds.includes("instance.left"), kinds.join(","));
  });
});
