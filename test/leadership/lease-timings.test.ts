import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";
import { inForce, inheritedWaitMs, longerPredecessor, promisesOverAfterMs, takeoverWaitMs } from "../../src/leadership/lease-timings.js";

const OWN = { leaseTtlMs: 6_000, leaderLeaseMs: 5_000 };

describe("what a new leader owes its predecessor's leases", () => {
  test("with the same durations: a replica waits one leader lease and its margin, a single process nothing more", () => {
    assert.equal(inheritedWaitMs(OWN, OWN, true), 5_000 + leaseMarginMs(5_000));
    assert.equal(inheritedWaitMs(OWN, OWN, false), 0);
  });

  test("a longer lease or leader lease in force adds exactly what it outlasts this process's own", () => {
    const found = { leaseTtlMs: 12_000, leaderLeaseMs: 9_000 };
    const force = inForce(OWN, found);
    assert.deepEqual(force, found);
    const longerLease = 12_000 + leaseMarginMs(12_000) - (6_000 + leaseMarginMs(6_000));
    assert.equal(inheritedWaitMs(OWN, force, false), longerLease);
    assert.equal(inheritedWaitMs(OWN, force, true), takeoverWaitMs(9_000) + longerLease);
    assert.equal(promisesOverAfterMs(force), takeoverWaitMs(9_000) + 12_000 + leaseMarginMs(12_000));
  });

  test("shorter durations found change nothing, and only longer ones are worth a warning", () => {
    const found = { leaseTtlMs: 3_000, leaderLeaseMs: 2_000 };
    assert.deepEqual(inForce(OWN, found), OWN);
    assert.deepEqual(inForce(OWN, undefined), OWN);
    assert.equal(longerPredecessor(OWN, found), undefined);
    assert.equal(longerPredecessor(OWN, undefined), undefined);
    assert.match(longerPredecessor(OWN, { leaseTtlMs: 8_000, leaderLeaseMs: 5_000 }) ?? "", /LEASE_TTL_MS=8000 \(this one 6000\); honouring/);
  });
});
