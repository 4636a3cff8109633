/**
 * Every system benchmark in sequence: `node --import tsx bench/all.ts [--quick] [--only a,b]`.
 *
 * Each runs in a child process of its own (its own orchestrator, PostgreSQL unless
 * --database-url names one, and client harness, all gone before the next starts), its output passed through;
 * at the end a combined summary lists every target as met or MISSED. Exit code 1
 * when a benchmark failed to run (a missed target is a result, not a failure).
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { DATABASE_FLAGS, EMBEDDED, parseArgs } from "./lib/args.js";
import { machineDescription, printTable, RESULT_MARKER, type BenchResult } from "./lib/report.js";
import { nodeEntry } from "../test/helpers/process.js";

const BENCHES = ["failover", "join", "sessions", "transport", "database", "takeover"] as const;
const projectRoot = path.resolve(import.meta.dirname, "..");

const { quick, flags } = parseArgs("all", "Runs the system benchmarks one after the other and summarizes their targets.", {
  only: { help: `comma-separated subset of ${BENCHES.join(", ")}`, full: BENCHES.join(",") },
  ...DATABASE_FLAGS,
});

interface Outcome {
  bench: string;
  seconds: number;
  exitCode: number | null;
  result?: BenchResult;
}

/** Set on Ctrl-C: the running benchmark cleans up and stops, no further one starts. */
let interrupted = false;

function run(bench: string): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const args = [...(quick ? ["--quick"] : []), ...(flags.databaseUrl === EMBEDDED ? [] : ["--database-url", flags.databaseUrl])];
    const child = spawn(process.execPath, [...nodeEntry(`bench/${bench}.ts`), ...args], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let result: BenchResult | undefined;
    let pending = "";
    child.stdout.on("data", (chunk: Buffer) => {
      process.stdout.write(chunk);
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith(RESULT_MARKER)) result = JSON.parse(line.slice(RESULT_MARKER.length)) as BenchResult;
    });
    const forward = (signal: NodeJS.Signals) => {
      interrupted = true;
      child.kill(signal);
    };
    process.once("SIGINT", forward);
    process.once("SIGTERM", forward);
    child.on("exit", (code) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve({ bench, seconds: (performance.now() - started) / 1000, exitCode: code, result });
    });
  });
}

const selected = flags.only.split(",").map((s) => s.trim()).filter(Boolean);
for (const name of selected) {
  if (!(BENCHES as readonly string[]).includes(name)) {
    process.stderr.write(`unknown benchmark ${name}; choose from ${BENCHES.join(", ")}\n`);
    process.exit(2);
  }
}

const outcomes: Outcome[] = [];
for (const bench of selected) {
  if (interrupted) break;
  console.log(`\n${"=".repeat(100)}\n`);
  outcomes.push(await run(bench));
}

console.log(`\n${"=".repeat(100)}\n\nsummary${quick ? " (--quick: small sizes, targets are for the full sizes)" : ""}`);
console.log(`machine: ${machineDescription()}\n`);
const rows: string[][] = [];
for (const o of outcomes) {
  if (!o.result) {
    rows.push([o.bench, "(benchmark failed to run)", `exit code ${o.exitCode}`, "-", "FAILED"]);
    continue;
  }
  for (const t of o.result.targets) rows.push([o.bench, t.name, t.value, t.target, t.met ? "met" : "MISSED"]);
  for (const [name, value] of Object.entries(o.result.notes ?? {})) rows.push([o.bench, name, value, "(no target)", ""]);
}
printTable(["<bench", "<measure", "<value", "<target", "<verdict"], rows);
console.log(`\ntimes: ${outcomes.map((o) => `${o.bench} ${o.seconds.toFixed(0)} s`).join(", ")}`);
const missed = rows.filter((r) => r[4] === "MISSED").length;
const failed = outcomes.filter((o) => !o.result || o.exitCode !== 0).length;
console.log(failed ? `${failed} benchmark(s) failed to run` : missed ? `${missed} target(s) missed` : "all targets met");
process.exit(failed ? 1 : 0);
