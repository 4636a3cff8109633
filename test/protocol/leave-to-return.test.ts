import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { InstanceClient } from "../../src/client/index.js";
import { freePort } from "../../src/net/free-port.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { createTestDatabase } from "../helpers/test-database.js";
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

describe("an orchestrator restart while an instance is away with intent to return (instances.return_by)", () => {
  const orchestrators: TestOrchestrator[] = [];
  after(async () => {
    for (const o of orchestrators) await o.close().catch(() => undefined);
  });

  test("the restarted process keeps the return window, past its own lease and grace: the instance gets its streams back, the other none of them", async () => {
    const database = await createTestDatabase({ withSchema: true });
    // No restart lease: only the recorded return window keeps the streams past the new process's first second.
    const env = { HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "900", RECONNECT_GRACE_MS: "300", RESTART_LEASE_MS: "0", GRPC_PORT: String(await freePort()) };
    const first = await startTestOrchestrator(env, database);
    orchestrators.push(first);
    const admin = new AdminClient(first.grpcAddress);
    await admin.upsert(streamIds(10).map((id) => ({ id })));
    admin.close();
    const a = instance(first.grpcAddress, "restarting_a");
    const b = instance(first.grpcAddress, "steady_b");
    try {
      await waitUntil(() => a.running.size === 5 && b.running.size === 5, 10_000, () => `a 5/5 split, got ${a.running.size}/${b.running.size}`);
      const mine = [...a.running].sort();
      await a.client.close("restarting", { returnWithinMs: 15_000 });
      await first.app.stop();
      const second = await startTestOrchestrator(env, database);
      orchestrators.push(second);
      await waitUntil(() => b.client.connected, 5_000, "b back on the restarted process");
      const startedByB = b.started.length;
      await sleep(2_500); // past the new process's lease and grace, counted from its start
      const again = instance(second.grpcAddress, "restarting_a");
      try {
        await waitUntil(() => again.running.size === 5, 5_000, () => `the new process to run 5, it runs ${again.running.size}`);
        assert.deepEqual([...again.running].sort(), mine, "the same streams");
        assert.equal(b.started.length, startedByB, "b started nothing of a's meanwhile");
      } finally {
        await again.client.close();
      }
    } finally {
      await b.client.close();
    }
  });
});
