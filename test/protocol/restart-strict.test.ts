import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { InstanceClient } from "../../src/client/index.js";
import { freePort } from "../../src/net/free-port.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { createTestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { sleep, waitUntil } from "../helpers/wait.js";

// Lease 0.9 s and grace 0.3 s: the restart below (1.5 s down) outlasts both; the go_away promises 5 s.
const ENV = { HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "900", RECONNECT_GRACE_MS: "300", RESTART_LEASE_MS: "5000" };

describe("an orchestrator restart with strict instances (RESTART_LEASE_MS)", () => {
  const orchestrators: TestOrchestrator[] = [];
  after(async () => {
    for (const o of orchestrators) await o.close().catch(() => undefined);
  });

  test("strict instances keep running through it: nothing stops, nothing moves", async () => {
    const database = await createTestDatabase({ withSchema: true });
    const env = { ...ENV, GRPC_PORT: String(await freePort()) };
    const first = await startTestOrchestrator(env, database);
    orchestrators.push(first);
    const admin = new AdminClient(first.grpcAddress);
    await admin.upsert(streamIds(8).map((id) => ({ id })));
    admin.close();
    const stops: string[] = [];
    const running = [new Set<string>(), new Set<string>()];
    const clients = ["strict_a", "strict_b"].map(
      (id, i) =>
        new InstanceClient({
          address: first.grpcAddress,
          instanceId: id,
          capacity: 8,
          strict: true,
          backoff: { initialMs: 100, maxMs: 300 },
          onStart: (s) => void running[i]!.add(s.id),
          onStop: (streamId, reason) => {
            running[i]!.delete(streamId);
            stops.push(`${id}:${streamId}:${reason}`);
          },
        }),
    );
    for (const c of clients) c.start();
    try {
      await waitUntil(() => running[0]!.size === 4 && running[1]!.size === 4, 10_000, "a 4/4 split");
      const before = running.map((r) => [...r].sort());
      stops.length = 0; // the join's rebalance revoked some of a's first streams; only the restart counts

      // Stop the database's use by the first process (its shutdown sends the go_aways), down for longer than lease and grace.
      await first.app.stop();
      await sleep(1_500);
      const second = await startTestOrchestrator(env, database);
      orchestrators.push(second);
      await waitUntil(() => clients.every((c) => c.connected), 5_000, "both back");
      await sleep(500);
      assert.deepEqual(stops, [], "no strict instance stopped a stream");
      assert.deepEqual(running.map((r) => [...r].sort()), before, "and each runs what it ran");
    } finally {
      for (const c of clients) await c.close();
    }
  });
});
