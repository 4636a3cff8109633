import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { InstanceClient } from "../../src/client/index.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { sleep, waitUntil } from "../helpers/wait.js";

/** An instance client that records what it starts. */
function instance(address: string, id: string): { client: InstanceClient; running: Set<string>; started: string[] } {
  const running = new Set<string>();
  const started: string[] = [];
  const client = new InstanceClient({
    address,
    instanceId: id,
    capacity: 10,
    onStart: (s) => {
      running.add(s.id);
      started.push(s.id);
    },
    onStop: (streamId) => void running.delete(streamId),
  });
  client.start();
  return { client, running, started };
}

describe("a TypeScript client restarting with close({ returnWithinMs })", () => {
  let orchestrator: TestOrchestrator;
  before(async () => {
    // Short lease and grace: the restart below lasts longer than both.
    orchestrator = await startTestOrchestrator({ HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "900", RECONNECT_GRACE_MS: "300" });
    const admin = new AdminClient(orchestrator.grpcAddress);
    await admin.upsert(streamIds(10).map((id) => ({ id })));
    admin.close();
  });
  after(() => orchestrator.close());

  test("its streams wait for the new process, which gets them back; the other instance starts none of them", async () => {
    const a = instance(orchestrator.grpcAddress, "restarting_a");
    const b = instance(orchestrator.grpcAddress, "steady_b");
    try {
      await waitUntil(() => a.running.size === 5 && b.running.size === 5, 10_000, () => `a 5/5 split, got ${a.running.size}/${b.running.size}`);
      const mine = [...a.running].sort();
      const startedByB = b.started.length;
      await a.client.close("restarting", { returnWithinMs: 10_000 });
      await sleep(1_500); // past lease and grace
      const again = instance(orchestrator.grpcAddress, "restarting_a");
      try {
        await waitUntil(() => again.running.size === 5, 5_000, () => `the new process to run 5, it runs ${again.running.size}`);
        assert.deepEqual([...again.running].sort(), mine, "the same streams");
        assert.equal(b.started.length, startedByB, "b started nothing meanwhile");
      } finally {
        await again.client.close();
      }
    } finally {
      await b.client.close();
    }
  });
});
