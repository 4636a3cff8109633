import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AlreadyLed, Leadership, type LeaderLockPort, type LeadershipLost, type LeadershipOptions } from "../../src/leadership/leadership.js";
import { createLogger } from "../../src/log/logger.js";
import type { LeaseTimings } from "../../src/leadership/lease-timings.js";
import { ManualClock } from "../helpers/manual-clock.js";

/** A lock the test controls: who holds it, the term, and whether the database answers. */
class FakeLock implements LeaderLockPort {
  term = 0;
  heldByOther = false;
  reachable = true;
  confirms = 0;
  /** The leadership row's durations in force, and the writes of them with their term. */
  recorded: LeaseTimings | undefined;
  timingWrites: Array<{ term: number; timings: LeaseTimings }> = [];
  async tryLead(record: (found: LeaseTimings | undefined) => LeaseTimings) {
    if (!this.reachable) throw new Error("database unreachable");
    if (this.heldByOther) return undefined;
    const found = this.recorded;
    this.recorded = record(found);
    return { term: ++this.term, found };
  }
  async recordTimings(term: number, timings: LeaseTimings): Promise<void> {
    this.timingWrites.push({ term, timings });
    if (term === this.term) this.recorded = timings;
  }
  async confirm(): Promise<number | undefined> {
    this.confirms++;
    if (!this.reachable) throw new Error("database unreachable");
    return this.heldByOther ? undefined : this.term;
  }
  async holderOfLock() {
    return { backendPid: 7, clientAddress: "10.0.0.2", holder: "other pid 1" };
  }
  async release(): Promise<void> {}
}

const logger = createLogger({ level: "silent", format: "json" });
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(mode: LeadershipOptions["mode"]) {
  const clock = new ManualClock();
  const lock = new FakeLock();
  const leadership = new Leadership(lock, clock, { mode, leaseMs: 4_000, leaseTtlMs: 6_000, campaignEveryMs: 250, scope: 'schema "orchestrator"' }, logger);
  const lost: LeadershipLost[] = [];
  leadership.onLost((e) => lost.push(e));
  return { clock, lock, leadership, lost };
}

describe("leadership", () => {
  test("replicas: a leader that cannot confirm stops acting before its lease is over, and is told so once", async () => {
    const { clock, lock, leadership, lost } = setup("replicas");
    assert.equal(await leadership.campaign(), 1);
    assert.equal(leadership.mayAct(), true);
    // Confirmations every lease/4 keep it leading.
    for (let i = 0; i < 8; i++) {
      clock.runFor(1_000);
      await settle();
    }
    assert.ok(lock.confirms >= 7);
    assert.equal(leadership.mayAct(), true);
    assert.equal(lost.length, 0);
    lock.reachable = false;
    const lastConfirmed = clock.now();
    clock.runFor(3_990);
    await settle();
    // Within the lease, less the clock-rate tolerance: still acting.
    assert.equal(leadership.mayAct(), true, "still inside the lease");
    clock.runFor(1_000);
    await settle();
    assert.equal(leadership.mayAct(), false);
    assert.ok(clock.now() - lastConfirmed <= 5_000);
    assert.equal(lost.length, 1);
    assert.match(lost[0]!.message, /not confirmed within LEADER_LEASE_MS/);
    assert.equal(leadership.role, "stepped-down");
  });

  test("replicas: a moved term or a lock held by another ends leadership at the next confirmation", async () => {
    const { clock, lock, leadership, lost } = setup("replicas");
    await leadership.campaign();
    lock.term = 5;
    clock.runFor(1_000);
    await settle();
    assert.equal(leadership.mayAct(), false);
    assert.match(lost[0]!.message, /term moved on to 5/);
  });

  test("replicas: a standby campaigns until the lock is free", async () => {
    const { clock, lock, leadership } = setup("replicas");
    lock.heldByOther = true;
    let elected: number | undefined;
    void leadership.campaign().then((t) => (elected = t));
    for (let i = 0; i < 4; i++) {
      await settle();
      clock.runFor(250);
    }
    assert.equal(elected, undefined);
    assert.equal(leadership.mayAct(), false);
    lock.heldByOther = false;
    clock.runFor(250);
    await settle();
    await settle();
    assert.equal(elected, 1);
    assert.equal(leadership.role, "leader");
  });

  test("single: a second orchestrator is refused naming the holder; the one running keeps acting through an outage", async () => {
    const other = setup("single");
    other.lock.heldByOther = true;
    await assert.rejects(other.leadership.campaign(), (e: unknown) => e instanceof AlreadyLed && /schema "orchestrator".*other pid 1 from 10\.0\.0\.2/.test((e as Error).message));
    const { clock, lock, leadership, lost } = setup("single");
    await leadership.campaign();
    lock.reachable = false;
    clock.runFor(60_000);
    await settle();
    assert.equal(leadership.mayAct(), true);
    assert.equal(lost.length, 0);
    // ...but a term moved by someone else ends it.
    lock.reachable = true;
    lock.term = 9;
    clock.runFor(1_000);
    await settle();
    assert.equal(lost.length, 1);
  });

  test("an election after a leader with longer leases records the longer ones, and this process's own once the old promises are over", async () => {
    const { clock, lock, leadership } = setup("replicas");
    lock.recorded = { leaseTtlMs: 12_000, leaderLeaseMs: 5_000 };
    await leadership.campaign();
    assert.deepEqual(leadership.found, { leaseTtlMs: 12_000, leaderLeaseMs: 5_000 }, "what the row held is known to the coordinator's start");
    assert.deepEqual(lock.recorded, { leaseTtlMs: 12_000, leaderLeaseMs: 5_000 }, "each duration the longer of the two: a takeover now still honours them");
    // The old leader acted for at most 5 s (+ margin) after the election, each lease it gave lasting 12 s (+ margin).
    // Steps of 500 ms, each settled, so that the confirmations keep this one leading.
    for (let t = 0; t < 17_000; t += 500) {
      clock.runFor(500);
      await settle();
    }
    assert.deepEqual(lock.timingWrites, [], "not before every earlier promise can have run out");
    assert.equal(leadership.mayAct(), true);
    clock.runFor(500);
    await settle();
    assert.deepEqual(lock.timingWrites, [{ term: 1, timings: { leaseTtlMs: 6_000, leaderLeaseMs: 4_000 } }]);
    assert.deepEqual(lock.recorded, leadership.timings);
  });

  test("an election after a leader with the same or shorter leases records this process's own at once and writes nothing later", async () => {
    const { clock, lock, leadership } = setup("replicas");
    lock.recorded = { leaseTtlMs: 3_000, leaderLeaseMs: 4_000 };
    await leadership.campaign();
    assert.deepEqual(lock.recorded, { leaseTtlMs: 6_000, leaderLeaseMs: 4_000 });
    for (let t = 0; t < 30_000; t += 500) {
      clock.runFor(500);
      await settle();
    }
    assert.equal(leadership.mayAct(), true);
    assert.deepEqual(lock.timingWrites, []);
  });
});

