import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AssignmentApplier, planAssignment, type RunningStream, type StopReason } from "../../src/client/index.js";
import type { Assignment } from "../../src/gen/orchestrator/v1/orchestrator.js";
import { deferred, releaseAllDeferred, stream } from "./fakes.js";
import { sleep } from "../helpers/wait.js";

afterEach(releaseAllDeferred);

function full(seq: number, ...add: ReturnType<typeof stream>[]): Assignment {
  return { seq, full: true, add, remove: [] };
}
function incremental(seq: number, add: ReturnType<typeof stream>[], remove: string[] = []): Assignment {
  return { seq, full: false, add, remove };
}

/** An applier whose handlers record every call in one ordered log. */
function recorder(options: { failStart?: Set<string>; failStop?: Set<string> } = {}) {
  const log: string[] = [];
  const stops: Array<[string, StopReason]> = [];
  const epochs: Array<[string, number, number]> = [];
  const applier = new AssignmentApplier({
    onStart: (s) => {
      log.push(`start ${s.id}@${s.epoch}`);
      if (options.failStart?.has(s.id)) throw new Error(`cannot start ${s.id}`);
    },
    onStop: async (id, reason) => {
      log.push(`stop ${id}`);
      stops.push([id, reason]);
      if (options.failStop?.has(id)) throw new Error(`cannot stop ${id}`);
    },
    onEpochChange: (s, previous) => {
      log.push(`epoch ${s.id} ${previous}->${s.epoch}`);
      epochs.push([s.id, previous, s.epoch]);
    },
  });
  const ids = () => [...applier.running().keys()].sort();
  return { applier, log, stops, epochs, ids };
}

describe("planAssignment", () => {
  const running = new Map<string, RunningStream>([
    ["a", { ...stream("a", 1) }],
    ["b", { ...stream("b", 1) }],
  ]);

  test("full: stops what is not listed, starts what is new, updates changed epochs", () => {
    const plan = planAssignment(running, full(1, stream("a", 2), stream("c", 5)));
    assert.deepEqual(plan.stop, ["b"]);
    assert.deepEqual(plan.start.map((s) => [s.id, s.epoch]), [["c", 5]]);
    assert.deepEqual(plan.update.map((s) => [s.id, s.epoch]), [["a", 2]]);
  });

  test("full with an unchanged epoch changes nothing", () => {
    const plan = planAssignment(running, full(1, stream("a", 1), stream("b", 1)));
    assert.deepEqual(plan, { stop: [], start: [], update: [] });
  });

  test("incremental: only removes what is listed and running", () => {
    const plan = planAssignment(running, incremental(2, [stream("c")], ["b", "zzz"]));
    assert.deepEqual(plan.stop, ["b"]);
    assert.deepEqual(plan.start.map((s) => s.id), ["c"]);
  });

  test("an id both removed and added is restarted with the new epoch", () => {
    const plan = planAssignment(running, incremental(3, [stream("a", 9)], ["a"]));
    assert.deepEqual(plan.stop, ["a"]);
    assert.deepEqual(plan.start.map((s) => [s.id, s.epoch]), [["a", 9]]);
    assert.deepEqual(plan.update, []);
  });
});

describe("AssignmentApplier", () => {
  test("a full assignment replaces the running set; stops run before starts", async () => {
    const { applier, log, stops, ids } = recorder();
    await applier.apply(full(1, stream("a"), stream("b")));
    log.length = 0;
    const result = await applier.apply(full(2, stream("b"), stream("c")));
    assert.deepEqual(ids(), ["b", "c"]);
    assert.deepEqual(log, ["stop a", "start c@1"]);
    assert.deepEqual(stops, [["a", "revoked"]]);
    assert.deepEqual(result, { seq: 2, full: true, added: ["c"], removed: ["a"], updated: [], failed: [] });
  });

  test("an epoch change updates the running stream without restarting it", async () => {
    const { applier, log, epochs } = recorder();
    await applier.apply(full(1, stream("a", 1)));
    log.length = 0;
    const result = await applier.apply(full(2, stream("a", 4)));
    assert.deepEqual(log, ["epoch a 1->4"], "neither stop nor start");
    assert.deepEqual(epochs, [["a", 1, 4]]);
    assert.equal(applier.running().get("a")?.epoch, 4);
    assert.deepEqual(applier.held(), [{ streamId: "a", epoch: 4 }]);
    assert.deepEqual(result.updated, ["a"]);
    assert.deepEqual(result.added, []);
  });

  test("incremental assignments stop remove and start add, leaving the rest alone", async () => {
    const { applier, log, ids } = recorder();
    await applier.apply(full(1, stream("a"), stream("b")));
    log.length = 0;
    const result = await applier.apply(incremental(2, [stream("c", 3)], ["a", "not-running"]));
    assert.deepEqual(ids(), ["b", "c"]);
    assert.deepEqual(log, ["stop a", "start c@3"]);
    assert.deepEqual(result.removed, ["a"]);
    assert.deepEqual(result.added, ["c"]);
  });

  test("apply resolves only after every start and stop handler finished", async () => {
    const startGate = deferred();
    const stopGate = deferred();
    const applier = new AssignmentApplier({ onStart: () => startGate.promise, onStop: () => stopGate.promise });
    let done = false;
    const applying = applier.apply(full(1, stream("a"))).then(() => (done = true));
    await sleep(20);
    assert.equal(done, false, "still waiting for onStart");
    startGate.resolve();
    await applying;
    assert.equal(done, true);

    done = false;
    const removing = applier.apply(incremental(2, [], ["a"])).then(() => (done = true));
    await sleep(20);
    assert.equal(done, false, "still waiting for onStop");
    stopGate.resolve();
    await removing;
    assert.equal(applier.size, 0);
  });

  test("assignments are applied strictly one after another", async () => {
    const gates = new Map([["a", deferred()], ["b", deferred()]]);
    const events: string[] = [];
    const applier = new AssignmentApplier({
      onStart: async (s) => {
        events.push(`begin ${s.id}`);
        await gates.get(s.id)?.promise;
        events.push(`end ${s.id}`);
      },
      onStop: () => {},
    });
    const first = applier.apply(incremental(1, [stream("a")]));
    const second = applier.apply(incremental(2, [stream("b")]));
    await sleep(20);
    assert.deepEqual(events, ["begin a"], "the second assignment waits for the first");
    gates.get("b")?.resolve();
    await sleep(10);
    assert.deepEqual(events, ["begin a"]);
    gates.get("a")?.resolve();
    assert.equal((await first).seq, 1);
    assert.equal((await second).seq, 2);
    assert.deepEqual(events, ["begin a", "end a", "begin b", "end b"]);
  });

  test("a failing onStart leaves the stream out of the running set without failing the assignment", async () => {
    const { applier, ids } = recorder({ failStart: new Set(["bad"]) });
    const result = await applier.apply(full(1, stream("good"), stream("bad")));
    assert.deepEqual(result.added, ["good"]);
    assert.deepEqual(result.failed, ["bad"]);
    assert.deepEqual(ids(), ["good"]);
    assert.deepEqual(applier.held(), [{ streamId: "good", epoch: 1 }]);
    // A later full assignment that still lists it tries again.
    const retry = await applier.apply(full(2, stream("good"), stream("bad")));
    assert.deepEqual(retry.failed, ["bad"]);
    assert.deepEqual(retry.added, []);
  });

  test("a failing onStop still removes the stream", async () => {
    const { applier, ids } = recorder({ failStop: new Set(["a"]) });
    await applier.apply(full(1, stream("a"), stream("b")));
    const result = await applier.apply(incremental(2, [], ["a"]));
    assert.deepEqual(result.removed, ["a"]);
    assert.deepEqual(ids(), ["b"]);
  });

  test("stopAll waits for a running assignment and then stops everything with its reason", async () => {
    const gate = deferred();
    const stops: Array<[string, StopReason]> = [];
    const applier = new AssignmentApplier({
      onStart: (s) => (s.id === "slow" ? gate.promise : undefined),
      onStop: (id, reason) => void stops.push([id, reason]),
    });
    const applying = applier.apply(full(1, stream("fast"), stream("slow")));
    const stopping = applier.stopAll("lease-lost");
    await sleep(10);
    assert.equal(stops.length, 0, "stopAll does not overtake the assignment");
    gate.resolve();
    await applying;
    assert.deepEqual((await stopping).sort(), ["fast", "slow"]);
    assert.deepEqual(stops.map(([, r]) => r), ["lease-lost", "lease-lost"]);
    assert.equal(applier.size, 0);
  });

  test("running() is a snapshot the caller cannot use to mutate state", async () => {
    const { applier } = recorder();
    await applier.apply(full(1, stream("a", 1, { metadata: { genre: "jazz" } })));
    const snapshot = applier.running();
    await applier.apply(full(2));
    assert.equal(snapshot.size, 1);
    assert.equal(applier.size, 0);
    assert.equal(Object.isFrozen(snapshot.get("a")), true);
    assert.deepEqual(snapshot.get("a")?.metadata, { genre: "jazz" });
  });
});
