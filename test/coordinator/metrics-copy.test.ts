import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyMetricsInto } from "../../src/coordinator/metrics-copy.js";

describe("copyMetricsInto", () => {
  test("keeps the latest values in the entry's own object and arrays", () => {
    const entry = { metrics: null as ReturnType<typeof copyMetricsInto> | null };
    const first = { cpu_percent: 10, load_average: [1, 2, 3] };
    entry.metrics = copyMetricsInto(entry.metrics, first);
    assert.deepEqual(entry.metrics, first);
    assert.notEqual(entry.metrics, first, "not the heartbeat's object");
    assert.notEqual(entry.metrics!.load_average, first.load_average, "not the heartbeat's array");

    const held = entry.metrics!;
    const loads = held.load_average;
    entry.metrics = copyMetricsInto(entry.metrics, { cpu_percent: 20.5, memory_percent: 40, load_average: [4, 5, 6] });
    assert.equal(entry.metrics, held, "same object");
    assert.equal(entry.metrics!.load_average, loads, "same array");
    assert.deepEqual(entry.metrics, { cpu_percent: 20.5, memory_percent: 40, load_average: [4, 5, 6] });
  });

  test("drops metrics the instance stopped sending and resizes arrays", () => {
    const entry = { metrics: copyMetricsInto(null, { cpu_percent: 10, disk_percent: 5, load_average: [1, 2, 3] }) };
    entry.metrics = copyMetricsInto(entry.metrics, { cpu_percent: 11, load_average: [7] });
    assert.deepEqual(entry.metrics, { cpu_percent: 11, load_average: [7] });
  });
});
