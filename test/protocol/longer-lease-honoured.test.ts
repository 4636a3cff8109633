import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { InstanceClient } from "../../src/client/index.js";
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { createTestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

// The first process gives 4 s leases; the second is configured with 1 s (a configuration change
// rolled out with a restart). No restart lease, so only the leases themselves protect the streams.
const FIRST = { HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "4000", RECONNECT_GRACE_MS: "300", RESTART_LEASE_MS: "0" };
const SECOND = { ...FIRST, LEASE_TTL_MS: "1000" };
const FIRST_LEASE_MS = 4_000 + leaseMarginMs(4_000);

describe("a process started with a shorter LEASE_TTL_MS than its predecessor (lease-timings.ts)", () => {
  const orchestrators: TestOrchestrator[] = [];
  after(async () => {
    for (const o of orchestrators) await o.close().catch(() => undefined);
  });

  test("keeps an unreconnected instance's streams until the predecessor's longer lease is over, then moves them", async () => {
    const database = await createTestDatabase({ withSchema: true });
    const first = await startTestOrchestrator(FIRST, database);
    orchestrators.push(first);
    const admin = new AdminClient(first.grpcAddress);
    await admin.upsert(streamIds(6).map((id) => ({ id })));
    admin.close();
    // Dialling only the first process: once it is gone, this instance never reaches the second.
    const silent = new InstanceClient({ address: first.grpcAddress, instanceId: "silent", capacity: 6, backoff: { initialMs: 100, maxMs: 300 }, onStart: () => undefined, onStop: () => undefined });
    const newcomer = new Set<string>();
    let other: InstanceClient | undefined;
    try {
      silent.start();
      await waitUntil(() => silent.running().size === 6, 10_000, "the first process to give every stream to the silent instance");
      await first.app.stop();
      const stoppedAt = performance.now();
      // Its last heartbeat reached the first process at most one interval before the stop.
      const leaseOverAt = stoppedAt - Number(FIRST.HEARTBEAT_INTERVAL_MS) + FIRST_LEASE_MS;

      const second = await startTestOrchestrator(SECOND, database);
      orchestrators.push(second);
      other = new InstanceClient({ address: second.grpcAddress, instanceId: "other", capacity: 6, onStart: (s) => void newcomer.add(s.id), onStop: (id) => void newcomer.delete(id) });
      other.start();
      let firstGrantAt = 0;
      await waitUntil(
        () => {
          if (newcomer.size > 0 && firstGrantAt === 0) firstGrantAt = performance.now();
          return newcomer.size === 6;
        },
        15_000,
        "the silent instance's streams to move to the other once its lease is over",
        20,
      );
      // With its own 1 s lease the second process would have moved them about 1.4 s after it started.
      assert.ok(firstGrantAt >= leaseOverAt, `first grant ${Math.round(firstGrantAt - stoppedAt)} ms after the stop, the lease the first process gave ran until ${Math.round(leaseOverAt - stoppedAt)} ms`);
    } finally {
      await silent.close();
      await other?.close();
    }
  });
});
