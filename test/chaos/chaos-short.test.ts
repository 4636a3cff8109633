import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runScript } from "../helpers/process.js";

// The short run of `npm run test:chaos`, one scenario per child process, side by side. Fixed
// seeds, so that a red run can be replayed with the same faults (`--seed`); the full run draws new ones.
const SCENARIOS = [
  ["network", 101],
  ["database", 102],
  ["orchestrator", 103],
  // A leader SIGKILLed on a quiet fleet: a standby leads, the fleet reconnects, nothing moves.
  ["replicas", 104],
] as const;

describe("the chaos suite's short run: real processes, fault proxies, and every invariant", { concurrency: true, timeout: 240_000 }, () => {
  for (const [scenario, seed] of SCENARIOS) {
    test(`${scenario} (seed ${seed})`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "finger-chaos-report-"));
      try {
        const report = path.join(dir, "report.json");
        const { code, stdout, stderr } = await runScript("test/chaos/run.ts", ["--short", "--scenario", scenario, "--seed", String(seed), "--report", report], {}, { interruptAfterMs: 200_000 });
        assert.equal(code, 0, `${stdout}\n${stderr}`);
        assert.match(stdout, /chaos: 0 violation\(s\)/);
        const { results } = JSON.parse(readFileSync(report, "utf8")) as { results: Array<{ scenario: string; injected: Record<string, number>; overlaps: number }> };
        assert.equal(results.length, 1);
        assert.equal(results[0]!.scenario, scenario);
        assert.ok(Object.values(results[0]!.injected).reduce((n, k) => n + k, 0) > 0, "faults were injected");
        assert.equal(results[0]!.overlaps, 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
