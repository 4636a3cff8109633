import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { fullAssignment, RawSession } from "../helpers/raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { sleep, waitUntil } from "../helpers/wait.js";
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";

const GRACE = 300;
// Short, so that x's streams move soon after its break: they wait for its lease, margin included.
const LEASE = 1_000;

describe("an instance that comes back while its streams are being given away", () => {
  let orchestrator: TestOrchestrator;
  const sessions: RawSession[] = [];
  const open = (id: string, held: Map<string, number> = new Map()) => {
    const s = new RawSession(orchestrator.grpcAddress).autoAck();
    s.hello({ instanceId: id, capacity: 10, held: [...held].map(([streamId, epoch]) => ({ streamId, epoch })) });
    s.heartbeatEvery(100);
    sessions.push(s);
    return s;
  };

  before(async () => {
    orchestrator = await startTestOrchestrator({ HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: String(LEASE), RECONNECT_GRACE_MS: String(GRACE) });
    const admin = new AdminClient(orchestrator.grpcAddress);
    await admin.upsert(streamIds(4).map((id) => ({ id })));
    admin.close();
  });
  after(async () => {
    for (const s of sessions) s.close();
    await orchestrator.close();
  });

  test("is not told to run them, so they never run twice", async () => {
    const x = open("x");
    const y = open("y");
    await waitUntil(() => x.owned().size === 2 && y.owned().size === 2, 3_000, "2/2");
    const xStreams = x.owned();

    // Hold the round that gives x's streams to y in the middle of its transaction.
    const blocker = new pg.Client({ connectionString: orchestrator.database.url });
    await blocker.connect();
    await blocker.query("begin");
    await blocker.query("lock table orchestrator.assignments in exclusive mode");
    try {
      x.close();
      await sleep(LEASE + leaseMarginMs(LEASE) + 400); // lease over: the round is planned and waits on the lock
      const back = open("x", xStreams);
      const full = await back.waitFor(fullAssignment);
      assert.deepEqual(
        full.add.filter((s) => xStreams.has(s.id)).map((s) => s.id),
        [],
        "streams the blocked round hands to y are not in x's full set",
      );
    } finally {
      await blocker.query("commit");
      await blocker.end();
    }
    const back = sessions[sessions.length - 1]!;
    await waitUntil(() => back.owned().size === 2 && y.owned().size === 2, 5_000, "2/2 again after the round landed");
    for (const id of back.owned().keys()) assert.ok(!y.owned().has(id), `${id} runs on both`);
  });
});
