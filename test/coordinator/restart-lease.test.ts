import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useHarness } from "../helpers/coordinator-harness.js";
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";

// Heartbeat 1 s, lease 3 s (HARNESS_OPTIONS), and a restart lease of 10 s promised in go_away.
const PROMISED = 10_000;
const MARGIN = leaseMarginMs(PROMISED);

describe("the lease a shutting-down orchestrator promises in go_away (RESTART_LEASE_MS)", () => {
  const harness = useHarness({ restartLeaseMs: PROMISED });

  test("is recorded before it is promised, and the next coordinator moves nothing before it and its margin are over", async () => {
    const { h } = harness;
    const [a, b] = await h.startWith(10, "a", "b");
    const held = [...b.owned()].map(([streamId, epoch]) => ({ streamId, epoch }));
    await h.restart();
    for (const old of [a, b]) assert.deepEqual(old.sent.filter((m) => m.kind === "goAway").map((m) => m.leaseExtensionMs), [PROMISED]);
    assert.equal(h.store.restartLeaseMs, PROMISED, "recorded for the next process");
    // Only b comes back; a stays away (its strict client runs its streams until the promise ends).
    const back = await h.connect("b", 20, { held });
    await h.advance(PROMISED + MARGIN - 100);
    assert.equal(back.owned().size, 5, "a's streams wait past the lease (3 s) until the promise is over");
    await h.advance(300);
    assert.equal(back.owned().size, 10, "then they move");
    assert.equal(h.store.restartLeaseMs, 0, "and the record is cleared: a later crash need not wait for it");
  });

  test("when the database does not take the record, go_away promises nothing", async () => {
    const { h } = harness;
    const [a] = await h.startWith(4, "a");
    h.store.saveRestartLease = async () => {
      throw new Error("database down");
    };
    await h.restart();
    assert.deepEqual(a.sent.filter((m) => m.kind === "goAway").map((m) => m.leaseExtensionMs), [0]);
  });
});
