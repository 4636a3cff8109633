import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HARNESS_OPTIONS, useHarness } from "../helpers/coordinator-harness.js";

const LEASE = HARNESS_OPTIONS.leaseTtlMs;
const PERSIST = HARNESS_OPTIONS.seenPersistMs!;
const FLUSH = HARNESS_OPTIONS.seenFlushMs!;
const BEAT = 100;

describe("heartbeats on the in-memory store", () => {
  const harness = useHarness();

  test("keep the lease past several leases; metrics are kept, and written with last-seen by the periodic flush", async () => {
    const { h } = harness;
    await h.start();
    const beating = await h.connect("beating", 1, { beatEveryMs: BEAT });
    beating.metrics = { cpu_percent: 12.5, memory_percent: 40, load_average: [0.5, 0.4, 0.3] };
    // The same time without heartbeats is fatal: this shows the leases did run out meanwhile.
    const silent = await h.connect("silent", 1, { beatEveryMs: null });

    await h.advance(BEAT);
    const entry = h.coordinator.view.instance("beating")!;
    assert.deepEqual(entry.metrics, beating.metrics);
    assert.notEqual(entry.metrics, beating.metrics, "copied, not the heartbeat's own object");
    assert.notEqual(entry.metrics!.load_average, beating.metrics.load_average);
    assert.equal(h.store.instances.get("beating")!.metrics, null, "not written on every heartbeat");

    await h.advance(3 * LEASE);
    assert.equal(h.coordinator.view.instance("silent")?.state, "dead");
    assert.equal(silent.endedWith?.kind, "lease-expired");
    assert.equal(entry.state, "connected", "only heartbeats renewed it");
    assert.equal(beating.ended, false);
    // Written by the first flush after the first heartbeat, and not again before PERSIST has passed.
    const written = h.store.instances.get("beating")!;
    assert.deepEqual(written.metrics, beating.metrics);
    const firstWrite = written.lastSeenAt!.getTime();
    assert.ok(h.clock.wallNow() - firstWrite >= 3 * LEASE + BEAT - FLUSH, `written ${h.clock.wallNow() - firstWrite} ms ago`);

    const firstMetrics = structuredClone(beating.metrics);
    beating.metrics = { cpu_percent: 50, memory_percent: 41, load_average: [1, 0.5, 0.3] };
    await h.advance(BEAT);
    assert.deepEqual(entry.metrics, beating.metrics, "kept from the next heartbeat on");
    assert.equal(h.store.instances.get("beating")!.lastSeenAt!.getTime(), firstWrite, "the written copy may lag");
    assert.deepEqual(h.store.instances.get("beating")!.metrics, firstMetrics, "its metrics too");

    await h.advance(PERSIST);
    const rewritten = h.store.instances.get("beating")!;
    assert.deepEqual(rewritten.metrics, beating.metrics);
    const lastSeen = rewritten.lastSeenAt!.getTime();
    assert.ok(lastSeen > firstWrite);
    assert.ok(h.clock.wallNow() - lastSeen <= PERSIST + FLUSH, `written last-seen is ${h.clock.wallNow() - lastSeen} ms old`);
    assert.equal(h.store.instances.get("silent")!.metrics, null, "a silent instance has nothing to write");
  });
});
