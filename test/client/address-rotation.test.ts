import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { AddressRotation, type AttemptEnd } from "../../src/client/address-rotation.js";
import type { Endpoint } from "../../src/client/index.js";

/**
 * A rotation over `addresses` (changeable between cycles) with a backoff of 100 ms doubling to
 * 1 s and a jitter fixed at one half, so its waits are 50, 100, 200, ... ms.
 */
function rotation(...addresses: string[]) {
  const state = { addresses, cycles: 0 };
  const r = new AddressRotation(
    async () => {
      state.cycles++;
      return state.addresses.map((address): Endpoint => ({ address }));
    },
    { initialMs: 100, maxMs: 1_000 },
    pino({ level: "silent" }),
    () => 0.5,
  );
  /** Dials the next endpoint, which ends as `end` says; returns where it went and the wait after it. */
  const attempt = async (end: Partial<AttemptEnd> = {}): Promise<[string, number]> => {
    const endpoint = await r.take();
    if (end.welcomed) r.welcomed();
    return [endpoint.address, r.after({ welcomed: false, ...end })];
  };
  return { r, state, attempt };
}

const failed = {};
const goAway = (leaderAddress = "", reconnectAfterMs = 0) => ({ goAway: { leaderAddress, reconnectAfterMs } });

describe("AddressRotation", () => {
  test("tries the addresses in order without waiting, and backs off once per full cycle, resolving each anew", async () => {
    const { attempt, state } = rotation("a:1", "b:1", "c:1");
    assert.deepEqual([await attempt(failed), await attempt(failed), await attempt(failed)], [["a:1", 0], ["b:1", 0], ["c:1", 50]]);
    state.addresses = ["c:1", "d:1"];
    assert.deepEqual([await attempt(failed), await attempt(failed)], [["c:1", 0], ["d:1", 100]]);
    assert.equal(state.cycles, 2);
  });

  test("standbys' go_aways without a leader move on at the delay they ask; the cycle's last also waits the backoff", async () => {
    const { attempt } = rotation("a:1", "b:1", "c:1");
    assert.deepEqual(
      [await attempt(goAway()), await attempt(goAway("", 30)), await attempt(goAway("", 30))],
      [["a:1", 0], ["b:1", 30], ["c:1", 50]],
    );
  });

  test("a go_away naming the leader sends the next attempt there at once, once; then the list resumes", async () => {
    const { attempt } = rotation("a:1", "b:1", "c:1");
    assert.deepEqual(await attempt(goAway("leader:9", 500)), ["a:1", 0], "the hint does not wait what the standby asked");
    assert.deepEqual(await attempt(failed), ["leader:9", 0]);
    assert.deepEqual([await attempt(failed), await attempt(failed)], [["b:1", 0], ["c:1", 50]]);
    assert.deepEqual(await attempt(failed), ["a:1", 0], "a new cycle holds the list only");
  });

  test("after a welcome, a break waits the backoff and retries the leader first; the leader's go_away tries the others first", async () => {
    const { attempt } = rotation("a:1", "b:1", "c:1");
    await attempt(failed);
    assert.deepEqual(await attempt({ welcomed: true }), ["b:1", 50], "a break of a welcomed session waits the backoff, from its start");
    assert.deepEqual([await attempt(failed), await attempt(failed), await attempt(failed)], [["b:1", 0], ["c:1", 0], ["a:1", 100]]);
    assert.deepEqual(await attempt({ welcomed: true, ...goAway("", 20) }), ["b:1", 20], "a restart's go_away waits what it asked");
    assert.deepEqual([await attempt(failed), await attempt(failed), await attempt(failed)], [["c:1", 0], ["a:1", 0], ["b:1", 50]]);
  });

  test("a leader named from the list is not dialled a second time in the same cycle", async () => {
    const { attempt } = rotation("a:1", "b:1", "c:1");
    assert.deepEqual([await attempt(goAway("c:1")), await attempt(failed)], [["a:1", 0], ["c:1", 0]]);
    assert.deepEqual(await attempt(failed), ["b:1", 50], "b ends the cycle: c was tried already");
  });

  test("replicas naming each other are followed for the addresses + 1 hints in a row, then it backs off and starts over", async () => {
    const { attempt } = rotation("a:1", "b:1");
    const pingPong = [await attempt(goAway("b:1")), await attempt(goAway("a:1")), await attempt(goAway("b:1")), await attempt(goAway("a:1"))];
    assert.deepEqual(pingPong, [["a:1", 0], ["b:1", 0], ["a:1", 0], ["b:1", 50]]);
    assert.deepEqual(await attempt(goAway("b:1")), ["a:1", 0], "after the backoff the hints count from zero");
  });

  test("a go_away naming the replica that sent it, or nothing dialable, is no hint", async () => {
    const { attempt } = rotation("a:1", "b:1", "c:1");
    assert.deepEqual(await attempt(goAway("a:1")), ["a:1", 0]);
    assert.deepEqual(await attempt(goAway("http://c:1")), ["b:1", 0]);
    assert.deepEqual(await attempt(failed), ["c:1", 50]);
  });

  test("a leader reached through a hint comes first after a blip, and is dropped after its own go_away", async () => {
    const { attempt } = rotation("a:1");
    await attempt(goAway("leader:9"));
    assert.deepEqual(await attempt({ welcomed: true }), ["leader:9", 50]);
    assert.deepEqual([await attempt(failed), await attempt(failed)], [["leader:9", 0], ["a:1", 100]]);
    assert.deepEqual(await attempt({ welcomed: true, ...goAway() }), ["leader:9", 0], "back, then it goes away itself");
    assert.deepEqual([await attempt(failed), await attempt(failed)], [["a:1", 50], ["a:1", 100]]);
  });

  test("current is the endpoint last taken", async () => {
    const { r } = rotation("a:1", "b:1");
    assert.equal(r.current?.address, undefined);
    await r.take();
    assert.equal(r.current?.address, "a:1");
  });
});
