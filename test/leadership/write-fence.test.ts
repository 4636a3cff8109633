import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createDatabase } from "../../src/db/database.js";
import { LeaderLock } from "../../src/db/leader-lock.js";
import { PostgresStore } from "../../src/db/postgres-store.js";
import { isFencedWrite, WriteTerm } from "../../src/db/write-term.js";
import { migratedTestDatabase, queryRows } from "../helpers/test-database.js";

const lockFor = (url: string, who: string) =>
  new LeaderLock({ url, schema: "orchestrator", advertiseAddress: `${who}:50051`, holder: who, idleSessionTimeoutMs: 0 });
const OWN = { leaseTtlMs: 6_000, leaderLeaseMs: 5_000 };
/** Takes the lock recording OWN; the term, or undefined when another holds it. */
const lead = async (lock: LeaderLock) => (await lock.tryLead(() => OWN))?.term;

describe("writes are fenced by the leadership term in the database", () => {
  test("a deposed leader's round is refused, the new leader's is written, and the refusal reaches the write term's listeners", async () => {
    const { database, close } = await migratedTestDatabase();
    const termA = new WriteTerm();
    const termB = new WriteTerm();
    const a = createDatabase({ url: database.url, poolSize: 2, statementTimeoutMs: 5_000, writeTerm: termA });
    const b = createDatabase({ url: database.url, poolSize: 2, statementTimeoutMs: 5_000, writeTerm: termB });
    const lockA = lockFor(database.url, "a");
    const lockB = lockFor(database.url, "b");
    try {
      const first = await lead(lockA);
      assert.ok(first !== undefined && first >= 1);
      termA.claim(first);
      // While A holds the lock, B cannot lead.
      assert.equal(await lead(lockB), undefined);
      const storeA = new PostgresStore(a.db);
      const at = new Date();
      const instance = { id: "w1", capacity: 10, labels: {}, version: "1", state: "connected" as const, draining: false, sessionId: "s1", registeredAt: at, connectedAt: at, lastSeenAt: at, returnBy: null, metrics: null };
      await storeA.writeRound({ instances: [instance], releases: [], grants: [], revocations: [], events: [] });

      // A loses its lock without noticing (its session ends); B is elected with the next term.
      await lockA.release();
      const second = await lead(lockB);
      assert.equal(second, first + 1);
      termB.claim(second!);
      assert.equal(await lockA.confirm(), undefined, "A cannot take the lock back while B holds it");

      const refusals: Error[] = [];
      termA.onFenced((error) => refusals.push(error));
      await assert.rejects(storeA.writeRound({ instances: [{ ...instance, capacity: 99 }], releases: [], grants: [], revocations: [], events: [] }), (error: unknown) => isFencedWrite(error));
      await assert.rejects(storeA.saveFreeze({ until: null, reason: "deposed" }), (error: unknown) => isFencedWrite(error));
      assert.ok(refusals.length >= 2, "every refusal is reported");
      assert.match(refusals[0]!.message, new RegExp(`term ${first}, the current term is ${second}`));
      // Nothing of A's refused writes is in the database; B's write goes through.
      assert.deepEqual(await queryRows(database.url, "select capacity from orchestrator.instances"), [{ capacity: 10 }]);
      await new PostgresStore(b.db).writeRound({ instances: [{ ...instance, capacity: 20 }], releases: [], grants: [], revocations: [], events: [] });
      assert.deepEqual(await queryRows(database.url, "select capacity from orchestrator.instances"), [{ capacity: 20 }]);
      // A standby's connections (term 0) write nothing either.
      termA.claim(0);
      await assert.rejects(storeA.saveFreeze({ until: null, reason: "standby" }), (error: unknown) => isFencedWrite(error));
    } finally {
      await lockA.release();
      await lockB.release();
      await a.db.destroy();
      await b.db.destroy();
      await close();
    }
  });

  test("a lost lock session is taken back with the same term when nobody else took it", async () => {
    const { database, close } = await migratedTestDatabase();
    const lock = lockFor(database.url, "a");
    try {
      const term = await lead(lock);
      // The database ends the lock's session (as a restart or a network cut would). Only this test's:
      // the server is shared, and other test files' replicas hold lock sessions of their own.
      const ended = await queryRows(
        database.url,
        "select pg_terminate_backend(pid) as ended from pg_stat_activity where application_name = 'finger-orchestrator (leader lock)' and datname = current_database()",
      );
      assert.deepEqual(ended, [{ ended: true }], "exactly this lock's session was ended");
      let confirmed: number | undefined;
      for (let i = 0; i < 50 && confirmed === undefined; i++) confirmed = await lock.confirm().catch(() => undefined);
      assert.equal(confirmed, term, "the same term, confirmed on a new session holding the lock again");
    } finally {
      await lock.release();
      await close();
    }
  });

  test("each election finds the durations the last one recorded and records its own; a deposed term's later write changes nothing", async () => {
    const { database, close } = await migratedTestDatabase();
    const lockA = lockFor(database.url, "a");
    const lockB = lockFor(database.url, "b");
    try {
      const a = await lockA.tryLead((found) => {
        assert.equal(found, undefined, "a fresh database records none");
        return { leaseTtlMs: 12_000, leaderLeaseMs: 8_000 };
      });
      assert.deepEqual(a?.found, undefined);
      await lockA.release();
      const b = await lockB.tryLead(() => OWN);
      assert.deepEqual(b?.found, { leaseTtlMs: 12_000, leaderLeaseMs: 8_000 }, "the predecessor's durations reach the new leader");
      assert.deepEqual(await queryRows(database.url, "select lease_ttl_ms, leader_lease_ms from orchestrator.leadership"), [{ lease_ttl_ms: 6_000, leader_lease_ms: 5_000 }]);
      // A's term is over: its write is ignored; B's goes through.
      await lockA.recordTimings(a!.term, { leaseTtlMs: 1, leaderLeaseMs: 1 });
      assert.deepEqual(await queryRows(database.url, "select lease_ttl_ms, leader_lease_ms from orchestrator.leadership"), [{ lease_ttl_ms: 6_000, leader_lease_ms: 5_000 }]);
      await lockB.recordTimings(b!.term, { leaseTtlMs: 7_000, leaderLeaseMs: 5_000 });
      assert.deepEqual(await queryRows(database.url, "select lease_ttl_ms, leader_lease_ms from orchestrator.leadership"), [{ lease_ttl_ms: 7_000, leader_lease_ms: 5_000 }]);
    } finally {
      await lockA.release();
      await lockB.release();
      await close();
    }
  });
});

