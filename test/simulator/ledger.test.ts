import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FailoverTracker } from "../../src/simulator/failover-tracker.js";
import { OwnershipLedger } from "../../src/simulator/ledger.js";

/** A ledger on a hand-driven clock, with instances a, b, c up. */
function setup() {
  let now = 1_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const ledger = new OwnershipLedger(clock.now);
  for (const id of ["a", "b", "c"]) {
    ledger.register(id, 10);
    ledger.setState(id, "up");
  }
  return { ledger, clock };
}

describe("OwnershipLedger", () => {
  test("a stream started on an up instance while another up instance runs it is a violation", () => {
    const { ledger } = setup();
    ledger.started("a", "s1");
    ledger.started("b", "s1");
    assert.deepEqual(ledger.violations.map((v) => [v.streamId, v.instanceId, v.otherId]), [["s1", "b", "a"]]);
  });

  test("stopping before the other starts is a clean move, and counts as one", () => {
    const { ledger } = setup();
    ledger.started("a", "s1");
    ledger.stopped("a", "s1");
    ledger.started("b", "s1");
    assert.equal(ledger.violations.length, 0);
    assert.equal(ledger.moves, 1);
    assert.deepEqual(ledger.upOwners("s1"), ["b"]);
  });

  test("a partitioned or restarting instance's stale copy is not a violation", () => {
    const { ledger } = setup();
    ledger.started("a", "s1");
    ledger.started("c", "s2");
    ledger.setState("a", "partitioned");
    ledger.setState("c", "down");
    ledger.started("b", "s1");
    ledger.started("b", "s2");
    assert.equal(ledger.violations.length, 0);
  });

  test("coming back up with a stream another up instance runs is a violation", () => {
    const { ledger } = setup();
    ledger.started("a", "s1");
    ledger.setState("a", "connecting");
    ledger.started("b", "s1");
    assert.equal(ledger.violations.length, 0);
    ledger.setState("a", "up");
    assert.deepEqual(ledger.violations.map((v) => [v.instanceId, v.otherId]), [["a", "b"]]);
  });

  test("a crashed instance's streams vanish and it reports nothing more", () => {
    const { ledger } = setup();
    ledger.started("a", "s1");
    ledger.forget("a");
    ledger.started("a", "s2");
    ledger.started("b", "s1");
    assert.equal(ledger.violations.length, 0);
    assert.deepEqual(ledger.runningOn("a"), []);
    assert.equal(ledger.state("a"), "dead");
    assert.equal(ledger.servedCount(), 1);
  });

  test("counts instances by state and loads of the up ones", () => {
    const { ledger } = setup();
    ledger.started("a", "s1");
    ledger.setState("c", "partitioned");
    assert.equal(ledger.countByState().up, 2);
    assert.equal(ledger.countByState().partitioned, 1);
    assert.deepEqual(ledger.upLoads(), [{ running: 1, capacity: 10 }, { running: 0, capacity: 10 }]);
  });
});

describe("FailoverTracker", () => {
  test("a kill's failover ends when the last orphan runs on an up instance", () => {
    const { ledger, clock } = setup();
    const tracker = new FailoverTracker(ledger, 0, clock.now);
    ledger.started("a", "s1");
    ledger.started("a", "s2");
    const record = tracker.struck("kill", "a");
    ledger.forget("a");
    assert.equal(record.orphans, 2);
    assert.equal(tracker.pending, 1);
    clock.advance(700);
    ledger.started("b", "s1");
    assert.equal(record.failoverMs, undefined);
    clock.advance(300);
    ledger.started("c", "s2");
    assert.equal(record.failoverMs, 1_000);
    assert.equal(record.moved, 2);
    assert.equal(tracker.pending, 0);
    assert.equal(record.atMs, 1_000);
  });

  test("a start on an instance that is not up does not end it", () => {
    const { ledger, clock } = setup();
    const tracker = new FailoverTracker(ledger, 0, clock.now);
    ledger.started("a", "s1");
    const record = tracker.struck("kill", "a");
    ledger.forget("a");
    ledger.setState("b", "connecting");
    ledger.started("b", "s1");
    assert.equal(record.failoverMs, undefined);
    clock.advance(250);
    ledger.setState("b", "up");
    assert.equal(record.failoverMs, 250);
  });

  test("a partition healed before anything moved counts the streams as kept", () => {
    const { ledger, clock } = setup();
    const tracker = new FailoverTracker(ledger, 0, clock.now);
    ledger.started("a", "s1");
    const record = tracker.struck("partition", "a");
    ledger.setState("a", "partitioned");
    clock.advance(2_000);
    ledger.setState("a", "up");
    assert.deepEqual([record.kept, record.moved, record.failoverMs], [1, 0, 2_000]);
  });

  test("a victim that ran nothing has no failover to wait for; a join reports when it was up", () => {
    const { ledger, clock } = setup();
    const tracker = new FailoverTracker(ledger, 0, clock.now);
    const empty = tracker.struck("leave", "c");
    assert.equal(empty.orphans, 0);
    assert.equal(tracker.pending, 0);
    ledger.register("d", 10);
    const join = tracker.struck("join", "d");
    clock.advance(40);
    tracker.joinedUp("d");
    assert.equal(join.upAfterMs, 40);
    assert.equal(join.orphans, 0);
  });
});
