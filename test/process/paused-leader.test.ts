import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { InstanceClient } from "../../src/client/index.js";
import { ChaosReplicas, replicaEnv, takeoverOverMs } from "../chaos/chaos-replicas.js";
import { DatabaseAudit } from "../chaos/database-audit.js";
import { Timeline } from "../chaos/timeline.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { ledgerClient, StreamRunLog } from "../helpers/fleet-of-clients.js";
import { createTestDatabase } from "../helpers/test-database.js";
import { pollUntil, sleep } from "../helpers/wait.js";

const TIMINGS = { heartbeatMs: 500, leaseMs: 6_000, leaderLeaseMs: 2_500 };
const LEADER_LEASE_MS = TIMINGS.leaderLeaseMs;

describe("a leader paused past its lease (SIGSTOP) and resumed", { timeout: 90_000 }, () => {
  test("a standby leads meanwhile; the old one, resumed, acknowledges nothing, exits 1 and changes nothing: no stream moved, none run twice, no write of its term after the next", async () => {
    const database = await createTestDatabase({ withSchema: true });
    const timeline = new Timeline();
    const replicas = await ChaosReplicas.start(database.url, 2, replicaEnv(TIMINGS), timeline);
    const audit = new DatabaseAudit(database.url);
    const runs = new StreamRunLog();
    const clients: InstanceClient[] = [];
    try {
      const streams = streamIds(24);
      const admin = new AdminClient(replicas.leader.grpcAddress);
      await admin.upsert(streams.map((id) => ({ id })));
      admin.close();
      for (let i = 0; i < 4; i++) {
        const client = ledgerClient(runs, replicas.addresses.join(","), `w${i}`, 10, { strict: true });
        client.on("error", () => undefined);
        clients.push(client);
        client.start();
      }
      assert.ok(await pollUntil(() => runs.runningOn.size === streams.length, 20_000, 50), `placed ${runs.runningOn.size} of ${streams.length}`);
      const before = new Map(runs.runningOn);
      const old = replicas.leader;
      const lostLease = new Set<string>();
      clients.forEach((c, i) => c.on("leaseLost", () => lostLease.add(`w${i}`)));

      const pausedAt = performance.now();
      const faultAt = new Date();
      old.paused = true;
      old.signal("SIGSTOP");
      const next = await replicas.waitForLeader(old, 10_000);
      const tookMs = performance.now() - pausedAt;
      // Its lock's session ends after idle_session_timeout (the leader lease), then a campaign of at most 250 ms.
      assert.ok(tookMs < LEADER_LEASE_MS + 4_000, `a standby led ${Math.round(tookMs)} ms after the pause`);
      await sleep(Math.max(0, pausedAt + LEADER_LEASE_MS + 1_000 - performance.now()));
      old.signal("SIGCONT");
      old.paused = false;

      // Resumed, it finds its leadership gone and exits 1 for its supervisor (which starts it again as a standby).
      assert.ok(await pollUntil(() => replicas.exits.some((e) => e.replica === old.name), 5_000, 25), `the resumed leader exited:\n${replicas.output()}`);
      const exit = replicas.exits.find((e) => e.replica === old.name)!;
      assert.equal(exit.code, 1);
      assert.ok(exit.expected, "it exited as a deposed leader does");

      // Past every takeover wait (instance lease + leader lease + margins from the election), nothing moved.
      await sleep(Math.max(0, pausedAt + takeoverOverMs(TIMINGS) + 1_000 - performance.now()));
      assert.equal(await audit.grantsSince(faultAt), 0, "no stream was granted to another instance");
      assert.deepEqual(runs.violations, []);
      assert.equal(runs.runningOn.size, streams.length);
      for (const [stream, owner] of before) if (!lostLease.has(owner)) assert.equal(runs.runningOn.get(stream), owner, `${stream} stayed on ${owner}`);
      assert.ok(lostLease.size < clients.length, "most instances kept their lease through the takeover");
      assert.ok((await audit.checkFence(timeline)) >= 2, "two terms wrote");
      assert.deepEqual(timeline.violations, []);
      assert.ok(next !== old);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await audit.close();
      await replicas.stop();
      await database.drop();
    }
  });
});
