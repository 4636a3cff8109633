/**
 * The Python example instance (examples/python) against two real orchestrator replicas on one
 * PostgreSQL, through a SIGKILL of the leader: the standby leads, the example's instances find
 * it through ORCHESTRATOR_URL's list (and the standbys' go_away hints), say hello with what they
 * hold, and keep it: nothing is granted anew, nothing stops, no stream changes hands or epoch.
 * paused-leader.test.ts is the same takeover with the TypeScript client.
 *
 * Needs what python-instance.test.ts needs; without it this file fails, it does not skip.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InstanceState } from "../../src/gen/orchestrator/v1/admin.js";
import { ChaosReplicas, replicaEnv, takeoverOverMs, type ChaosReplica } from "../chaos/chaos-replicas.js";
import { DatabaseAudit } from "../chaos/database-audit.js";
import { Timeline } from "../chaos/timeline.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { checkToolchain, PythonInstance } from "../helpers/python-instance.js";
import { createTestDatabase } from "../helpers/test-database.js";
import { sleep, waitUntil } from "../helpers/wait.js";

const TIMINGS = { heartbeatMs: 500, leaseMs: 6_000, leaderLeaseMs: 2_500 };
const LEASE_MS = TIMINGS.leaseMs;
const IDS = ["py-a", "py-b"];

/** Stream id to "instance@epoch", from what each worker's own log says it runs. */
function runningOn(workers: PythonInstance[]): Map<string, string> {
  const out = new Map<string, string>();
  workers.forEach((w, i) => {
    for (const [stream, epoch] of w.running()) {
      // A stream in two workers' logs at once would be run twice: keep both names so the comparison fails.
      const before = out.get(stream);
      out.set(stream, before ? `${before}+${IDS[i]}@${epoch}` : `${IDS[i]}@${epoch}`);
    }
  });
  return out;
}

/** The same map from the replica's fleet (admin GetInstance on `replica`), connected instances only. */
async function ownedOn(replica: ChaosReplica): Promise<Map<string, string>> {
  const admin = new AdminClient(replica.grpcAddress);
  try {
    const out = new Map<string, string>();
    for (const id of IDS) {
      const { instance, streams } = await admin.getInstance(id);
      if (instance?.state !== InstanceState.INSTANCE_STATE_CONNECTED) continue;
      for (const s of streams) if (!s.revoking) out.set(s.streamId, `${id}@${s.epoch}`);
    }
    return out;
  } catch {
    return new Map(); // a standby, or not yet leading
  } finally {
    admin.close();
  }
}

const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => a.localeCompare(b));

describe("the Python example instance through a leader SIGKILL", { timeout: 90_000 }, () => {
  test("the standby leads within 5 s, the instances reconnect to it with what they hold, and nothing moves", async () => {
    checkToolchain();
    const database = await createTestDatabase({ withSchema: true });
    const timeline = new Timeline();
    const replicas = await ChaosReplicas.start(database.url, 2, replicaEnv(TIMINGS), timeline);
    const audit = new DatabaseAudit(database.url);
    const workers: PythonInstance[] = [];
    const describeAll = () => `${workers.map((w, i) => `--- ${IDS[i]}\n${w.output()}`).join("\n")}\n${replicas.output()}`;
    try {
      const streams = streamIds(10, "py");
      const admin = new AdminClient(replicas.leader.grpcAddress);
      await admin.upsert(streams.map((id) => ({ id })));
      admin.close();
      for (const id of IDS) workers.push(new PythonInstance({ ORCHESTRATOR_URL: replicas.addresses.join(","), INSTANCE_ID: id, MAX_STREAMS: "10" }));

      // Settled: every stream on one worker, half each (their fair shares), and the leader agrees.
      // A rebalance still going at the kill would rightly go on after it, and grant.
      const old = replicas.leader;
      await waitUntil(
        async () => {
          const running = runningOn(workers);
          return running.size === streams.length && workers.every((w) => w.running().size === streams.length / 2) && sorted(await ownedOn(old)).join() === sorted(running).join();
        },
        20_000,
        () => `the workers to run 5 streams each; output:\n${describeAll()}`,
        100,
      );
      const before = runningOn(workers);
      const linesBefore = workers.map((w) => w.lines.length);

      const killedAt = performance.now();
      const killTime = new Date();
      await replicas.kill(old);
      const next = await replicas.waitForLeader(old, 10_000);
      const tookMs = performance.now() - killedAt;
      timeline.note("takeover", { from: old.name, to: next.name, tookMs: Math.round(tookMs) });

      // The new leader's fleet shows both connected again, owning what they held under the same epochs.
      await waitUntil(
        async () => sorted(await ownedOn(next)).join() === sorted(before).join(),
        LEASE_MS,
        () => `both instances connected to ${next.name} with their streams; output:\n${describeAll()}`,
        100,
      );
      const reconnectedMs = performance.now() - killedAt;
      workers.forEach((w, i) => {
        const since = w.lines.slice(linesBefore[i]);
        assert.ok(
          since.some((l) => l.includes(`connected to ${next.grpcAddress} as ${IDS[i]} `)),
          `${IDS[i]} logged its connection to the new leader ${next.grpcAddress}:\n${since.join("\n")}`,
        );
      });

      // Past every takeover wait (instance lease + two leader leases + a margin), nothing moved.
      await sleep(Math.max(0, killedAt + takeoverOverMs(TIMINGS) + 1_000 - performance.now()));
      assert.equal(await audit.grantsSince(killTime), 0, "no stream was granted after the kill");
      assert.deepEqual(sorted(runningOn(workers)), sorted(before), "each stream runs where it ran, under the same epoch");
      workers.forEach((w, i) => {
        const stops = w.events().filter((e) => e.at >= killTime.getTime() && e.what !== "start");
        assert.deepEqual(stops, [], `${IDS[i]} stopped nothing`);
      });
      assert.deepEqual(sorted(await ownedOn(next)), sorted(before), `${next.name} still agrees`);
      assert.ok((await audit.checkFence(timeline)) >= 2, "two terms wrote");
      assert.deepEqual(timeline.violations, []);
      timeline.note("reconnected", { ms: Math.round(reconnectedMs) });
    } catch (error) {
      process.stderr.write(`timeline: ${JSON.stringify(timeline.entries)}\noutput:\n${describeAll()}\n`);
      throw error;
    } finally {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
      await audit.close();
      await replicas.stop();
      await database.drop();
    }
  });
});
