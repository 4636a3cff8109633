/**
 * The system benchmarks still run end to end (orchestrator child process,
 * load instances, their own databases on the test server) at tiny sizes, one
 * test file each so that the runner spreads them among the other files.
 * Nothing here is timed: a missed target is a benchmark result, not a test failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runScript } from "../helpers/process.js";

const MARKER = "BENCH_RESULT ";

/**
 * Registers a test running `bench/<bench>.ts --quick <args>`, on the test server unless
 * `databaseUrl` is "embedded"; undefined for a benchmark that starts servers of its own.
 */
export function benchSmokeTest(bench: string, args: string[], databaseUrl: string | undefined): void {
  test(`bench/${bench}.ts runs end to end at tiny sizes`, { timeout: 120_000 }, async () => {
    const database = databaseUrl === undefined ? [] : ["--database-url", databaseUrl];
    const { code, stdout, stderr } = await runScript(`bench/${bench}.ts`, ["--quick", ...args, ...database], {}, { interruptAfterMs: 100_000 });
    const output = stdout + stderr;
    assert.equal(code, 0, output);
    const line = stdout.split("\n").find((l) => l.startsWith(MARKER));
    assert.ok(line, `no result line in:\n${output}`);
    const result = JSON.parse(line.slice(MARKER.length)) as { bench: string; targets: Array<{ met: boolean }> };
    assert.equal(result.bench, bench);
    assert.ok(result.targets.length > 0, "reports at least one target");
    assert.match(stdout, /^machine: .+cores.+node v\d+/m);
  });
}
