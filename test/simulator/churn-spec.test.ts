import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ChurnSpecError,
  checkScheduleFits,
  formatChurnEvent,
  formatDuration,
  parseChurnSpec,
  parseDuration,
} from "../../src/simulator/churn-spec.js";

describe("parseDuration", () => {
  test("reads ms, s and m, with decimals, into whole milliseconds", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("10s"), 10_000);
    assert.equal(parseDuration("1.5s"), 1_500);
    assert.equal(parseDuration("2m"), 120_000);
    assert.equal(parseDuration("0s"), 0);
    assert.equal(parseDuration(" 3s "), 3_000);
  });

  test("asks for a unit when the number is bare, and names the value", () => {
    assert.throws(() => parseDuration("10", "TIME"), { name: "ChurnSpecError", message: 'TIME "10" needs a unit: ms, s or m (e.g. 10s)' });
  });

  test("rejects what is not a duration", () => {
    for (const bad of ["", "s", "-1s", "1h", "1.s", "ten s", "1e3ms"]) {
      assert.throws(() => parseDuration(bad), /is not a duration like 500ms, 10s, 1.5s or 2m|needs a unit/, bad);
    }
  });

  test("formats back the way the grammar writes it", () => {
    assert.deepEqual([0, 250, 1_000, 1_500, 1_234, 60_000, 90_000].map(formatDuration), ["0s", "250ms", "1s", "1.5s", "1234ms", "1m", "90s"]);
  });
});

describe("parseChurnSpec", () => {
  test("parses every action, sorted by time, applying default lengths", () => {
    const events = parseChurnSpec("join:5@40s, kill:5@10s,partition:3@20s/8s,restart:2@30s,leave:1@35s,partition:1@20s");
    assert.deepEqual(events, [
      { action: "kill", count: 5, atMs: 10_000 },
      { action: "partition", count: 3, atMs: 20_000, lengthMs: 8_000 },
      { action: "partition", count: 1, atMs: 20_000, lengthMs: 5_000 },
      { action: "restart", count: 2, atMs: 30_000, lengthMs: 2_000 },
      { action: "leave", count: 1, atMs: 35_000 },
      { action: "join", count: 5, atMs: 40_000 },
    ]);
  });

  test("an empty or blank spec means no churn", () => {
    assert.deepEqual(parseChurnSpec(""), []);
    assert.deepEqual(parseChurnSpec("   "), []);
  });

  test("canonical text round-trips", () => {
    const spec = "kill:5@10s,partition:3@20s/8s,restart:2@1.5s/500ms,join:1@2m";
    const events = parseChurnSpec(spec);
    assert.deepEqual(parseChurnSpec(events.map(formatChurnEvent).join(",")), events);
    assert.equal(formatChurnEvent({ action: "partition", count: 3, atMs: 20_000, lengthMs: 8_000 }), "partition:3@20s/8s");
  });

  const bad: Array<[string, string]> = [
    ["kill:5@10s,,join:1@20s", 'event 2 is empty (a stray comma?)'],
    ["kill:5@10s,", "event 2 is empty (a stray comma?)"],
    ["kil:5@10s", 'event 1 "kil:5@10s": unknown action "kil"; expected one of kill, partition, restart, leave, join'],
    ["kill:0@10s", 'event 1 "kill:0@10s": COUNT must be a whole number of at least 1, got "0"'],
    ["kill:x@10s", 'event 1 "kill:x@10s": COUNT must be a whole number of at least 1, got "x"'],
    ["kill:1.5@10s", 'event 1 "kill:1.5@10s": COUNT must be a whole number of at least 1, got "1.5"'],
    ["kill:5", 'event 1 "kill:5": missing @TIME (when it happens, e.g. @10s)'],
    ["kill5@10s", 'event 1 "kill5@10s": expected ACTION:COUNT@TIME, e.g. kill:5@10s'],
    ["kill:5@10", 'event 1 "kill:5@10": TIME "10" needs a unit: ms, s or m (e.g. 10s)'],
    ["join:1@5s,kill:5@soon", 'event 2 "kill:5@soon": TIME "soon" is not a duration like 500ms, 10s, 1.5s or 2m'],
    ["kill:5@10s/2s", 'event 1 "kill:5@10s/2s": /LENGTH applies only to partition and restart, not to kill'],
    ["join:2@10s/2s", 'event 1 "join:2@10s/2s": /LENGTH applies only to partition and restart, not to join'],
    ["partition:1@10s/0s", 'event 1 "partition:1@10s/0s": LENGTH must be longer than 0, got "0s"'],
    ["partition:1@10s/8", 'event 1 "partition:1@10s/8": LENGTH "8" needs a unit: ms, s or m (e.g. 8s)'],
  ];
  for (const [spec, message] of bad) {
    test(`rejects ${JSON.stringify(spec)} saying what is wrong`, () => {
      assert.throws(() => parseChurnSpec(spec), (error: unknown) => {
        assert.ok(error instanceof ChurnSpecError, `expected a ChurnSpecError, got ${String(error)}`);
        assert.equal(error.message, message);
        return true;
      });
    });
  }
});

describe("checkScheduleFits", () => {
  test("accepts events before the end and rejects one at or after it", () => {
    const events = parseChurnSpec("kill:1@10s,join:1@59.9s");
    assert.doesNotThrow(() => checkScheduleFits(events, 60_000));
    assert.throws(() => checkScheduleFits(parseChurnSpec("kill:1@60s"), 60_000), {
      message: "kill:1@1m happens at or after the end of the scenario (--duration 1m)",
    });
  });
});
