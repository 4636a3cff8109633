import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";

/**
 * The system benchmarks still run end to end (orchestrator child process,
 * embedded PostgreSQL, virtual instances) at tiny sizes. Nothing here is timed:
 * a missed target is a benchmark result, not a test failure.
 */
const root = path.resolve(import.meta.dirname, "../..");
const MARKER = "BENCH_RESULT ";

function runBench(script: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", `bench/${script}.ts`, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill("SIGINT"), 100_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

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
      const { code, output } = await runBench(bench, ["--quick", ...args]);
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
