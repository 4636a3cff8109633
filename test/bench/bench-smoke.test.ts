import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { runScript } from "../helpers/process.js";

/**
 * The system benchmarks still run end to end (orchestrator child process,
 * embedded PostgreSQL, virtual instances) at tiny sizes. Nothing here is timed:
 * a missed target is a benchmark result, not a test failure.
 */
const MARKER = "BENCH_RESULT ";

const cases: Array<[string, string[]]> = [
  ["failover", ["--instances", "10", "--streams", "100", "--batch", "10"]],
  ["join", ["--instances", "10", "--streams", "100", "--joins", "1", "--references", "1"]],
  ["sessions", ["--instances", "20", "--streams", "40", "--seconds", "1", "--warmup-seconds", "0"]],
  ["transport", ["--streams", "4", "--seconds", "1", "--warmup-seconds", "0"]],
  ["database", ["--heartbeat-instances", "5", "--heartbeat-seconds", "1", "--heartbeat-streams", "20", "--fleet", "5", "--sizes", "20,40"]],
];

describe("benchmarks run end to end at tiny sizes", { timeout: 600_000 }, () => {
  for (const [bench, args] of cases) {
    test(bench, { timeout: 120_000 }, async () => {
      const { code, stdout, stderr } = await runScript(`bench/${bench}.ts`, ["--quick", ...args], {}, { interruptAfterMs: 100_000 });
      const output = stdout + stderr;
      assert.equal(code, 0, output);
      const line = output.split("\n").find((l) => l.startsWith(MARKER));
      assert.ok(line, `no result line in:\n${output}`);
      const result = JSON.parse(line.slice(MARKER.length)) as { bench: string; targets: Array<{ met: boolean }> };
      assert.equal(result.bench, bench);
      assert.ok(result.targets.length > 0, "reports at least one target");
      assert.match(output, /^machine: .+cores.+node v\d+/m);
    });
  }
});
