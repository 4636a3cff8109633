/**
 * `npm test`: runs every test file with node's test runner against one real
 * PostgreSQL server (embedded, unless DATABASE_URL names one), checks beside
 * them that generated code is fresh, lints the protos and type-checks, and
 * prints how long it all took. Each test file creates its own database on that server.
 * The tests run compiled, in a mirror of the project (scripts/compiled-tree.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startThrowawayPostgres } from "../test/helpers/throwaway-postgres.js";
import { createSchemaTemplate, queryRows, SCHEMA_TEMPLATE_VARIABLE, THROWAWAY_SERVER_VARIABLE } from "../test/helpers/test-database.js";
import { buildCompiledTree, type CompiledTree } from "./compiled-tree.js";

const started = performance.now();
const root = path.resolve(import.meta.dirname, "..");
const bin = (name: string) => path.join(root, "node_modules/.bin", name);

function run(step: string, command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    process.stderr.write(`npm test: ${step} failed\n`);
    process.exit(result.status ?? 1);
  }
}

class StepFailed extends Error {}

/**
 * Runs a check alongside the others; its output is held until it ends so that
 * parallel checks do not interleave. Rejects with StepFailed when it fails.
 */
function check(step: string, command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      process.stdout.write(output);
      if (code === 0) resolve();
      else reject(new StepFailed(`npm test: ${step} failed`));
    });
  });
}

function listFiles(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => path.join(dir, f))
    .filter((f) => f.endsWith(suffix) && statSync(f).isFile())
    .sort();
}

async function checkGeneratedCode(): Promise<void> {
  const out = mkdtempSync(path.join(tmpdir(), "finger-gen-"));
  try {
    await check("buf generate", bin("buf"), ["generate", "-o", out]);
    const fresh = listFiles(path.join(out, "src/gen"), "").map((f) => path.relative(path.join(out, "src/gen"), f));
    const committed = listFiles(path.join(root, "src/gen"), "").map((f) => path.relative(path.join(root, "src/gen"), f));
    const stale = [...new Set([...fresh, ...committed])].filter((f) => {
      try {
        return !readFileSync(path.join(out, "src/gen", f)).equals(readFileSync(path.join(root, "src/gen", f)));
      } catch {
        return true;
      }
    });
    if (stale.length) throw new StepFailed(`npm test: src/gen is stale (${stale.join(", ")}); run \`npm run generate\` and commit`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The Python package's stubs (clients/python/generate.sh, Debian's protoc) must match proto/ too. */
async function checkPythonStubs(): Promise<void> {
  const committedDir = path.join(root, "clients/python/src/finger_orchestrator/_generated");
  const out = mkdtempSync(path.join(tmpdir(), "finger-python-gen-"));
  try {
    await check("clients/python/generate.sh", "sh", [path.join(root, "clients/python/generate.sh"), out]);
    const names = (dir: string) => readdirSync(dir).filter((f) => statSync(path.join(dir, f)).isFile());
    const stale = [...new Set([...names(out), ...names(committedDir)])].filter((f) => {
      try {
        return !readFileSync(path.join(out, f)).equals(readFileSync(path.join(committedDir, f)));
      } catch {
        return true;
      }
    });
    if (stale.length) throw new StepFailed(`npm test: clients/python's stubs are stale (${stale.join(", ")}); run \`npm run generate\` and commit`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** What one run leaves for the next: in the temp folder, one file per checkout (node_modules may be shared by worktrees). */
const cacheFile = (name: string, extension: string) =>
  path.join(tmpdir(), `finger-${name}-${createHash("sha256").update(root).digest("hex").slice(0, 16)}${extension}`);

/** tsc remembers what it checked, so a run after a small change re-checks only what the change can affect. */
function typeCheck(): Promise<void> {
  return check("tsc --noEmit", bin("tsc"), ["--noEmit", "-p", "tsconfig.json", "--incremental", "--tsBuildInfoFile", cacheFile("tsc", ".tsbuildinfo")]);
}

/** The server the test files make their databases on. */
async function startTestDatabase(): Promise<{ url: string; template: string; throwaway: boolean; stop(): Promise<void> }> {
  const server = await startTestServer();
  try {
    const template = await createSchemaTemplate(server.url);
    const stop = async () => {
      // On a server of the developer's own (DATABASE_URL) the template must not stay behind.
      await queryRows(server.url, `drop database if exists ${template} with (force)`).catch(() => undefined);
      await server.stop();
    };
    return { url: server.url, template, throwaway: !process.env.DATABASE_URL, stop };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function startTestServer(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => undefined };
  // The database benchmark's smoke test counts statements in pg_stat_statements, which must be
  // preloaded; many test files with an orchestrator each may need more than 100 connections.
  // It is thrown away at the end, so it need not survive a crash: no fsync, no full-page writes.
  const durability = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"];
  return startThrowawayPostgres("test", ["-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.max=10000", "-c", "max_connections=200", ...durability]);
}

// Naming any reporter replaces node's default, which CI reads the summary lines of; so the
// default is named again: spec on a terminal and TAP otherwise before node 23, spec from 23.
const defaultReporter = Number(process.versions.node.split(".")[0]) >= 23 || process.stdout.isTTY ? "spec" : "tap";

const timesFile = cacheFile("test-times", ".json");

function readTimes(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(timesFile, "utf8")) as Record<string, number>;
  } catch {
    return {};
  }
}

/**
 * The slowest files (by the last run) first, files without a time before
 * them: with a few files at a time, a long one started last would run on alone.
 */
function slowestFirst(files: string[]): string[] {
  const times = readTimes();
  const time = (f: string) => times[path.relative(root, path.resolve(root, f))] ?? Infinity;
  return [...files].sort((a, b) => time(b) - time(a) || a.localeCompare(b));
}

// Most test files spend their time waiting (for a lease to run out, a child to start), so
// more files run at once than there are cores.
const CONCURRENCY = 4;

/** Runs the test files (project paths) compiled; resolves with the runner's exit code and how many tests it counted. */
async function runTests(files: string[], tree: CompiledTree, database: { url: string; template: string; throwaway: boolean }): Promise<{ code: number; tests: string }> {
  const resultFile = path.join(mkdtempSync(path.join(tmpdir(), "finger-test-run-")), "result.json");
  const reporters = [`--test-reporter=${defaultReporter}`, "--test-reporter-destination=stdout"];
  reporters.push("--test-reporter=./scripts/test-timing-reporter.mjs", `--test-reporter-destination=${resultFile}`);
  const compiled = slowestFirst(files).map((f) => tree.compiledPath(f));
  const child = spawn(process.execPath, ["--enable-source-maps", "--test", `--test-concurrency=${CONCURRENCY}`, ...reporters, ...compiled], {
    cwd: tree.root,
    stdio: "inherit",
    env: { ...process.env, TEST_DATABASE_URL: database.url, [SCHEMA_TEMPLATE_VARIABLE]: database.template, [THROWAWAY_SERVER_VARIABLE]: database.throwaway ? "1" : "" },
  });
  const code = await new Promise<number>((resolve) => child.on("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
  let result = { tests: "?", files: {} as Record<string, number> };
  try {
    result = JSON.parse(readFileSync(resultFile, "utf8")) as typeof result;
    const times = Object.fromEntries(Object.entries(result.files).map(([file, ms]) => [tree.sourceOf(file), ms]));
    writeFileSync(timesFile, JSON.stringify({ ...readTimes(), ...times }));
  } catch {
    // the runner died before its reporters finished
  }
  rmSync(path.dirname(resultFile), { recursive: true, force: true });
  return { code, tests: result.tests };
}

async function main(): Promise<void> {
  // The Python example's and package's tests need Debian's protoc, grpcio, pip, venv and pytest, the wall-clock test libfaketime; install them on a fresh machine.
  if (process.platform === "linux" && spawnSync("which", ["apt-get"]).status === 0) {
    run("installing system packages", "bash", [path.join(root, "scripts/install-system-deps.sh")]);
  }
  const files = process.argv.slice(2).length ? process.argv.slice(2) : listFiles(path.join(root, "test"), ".test.ts");
  // The checks run beside the tests rather than before them: tsc alone keeps one core busy for
  // about 13 s on a fresh clone, while the other would wait. A failed check fails the run at the end.
  const checks = Promise.allSettled([checkGeneratedCode(), checkPythonStubs(), check("buf lint", bin("buf"), ["lint"]), typeCheck()]);
  const [database, tree] = await Promise.allSettled([startTestDatabase(), buildCompiledTree(root)]);
  const failures = (settled: PromiseSettledResult<unknown>[]) =>
    settled.filter((c): c is PromiseRejectedResult => c.status === "rejected").map((f) => (f.reason instanceof StepFailed ? f.reason.message : String(f.reason)));
  if (database.status === "rejected" || tree.status === "rejected") {
    if (database.status === "fulfilled") await database.value.stop();
    if (tree.status === "fulfilled") tree.value.remove();
    for (const message of [...failures([database, tree]), ...failures(await checks)]) process.stderr.write(`${message}\n`);
    process.exit(1);
  }
  let result = { code: 1, tests: "?" };
  try {
    result = await runTests(files, tree.value, database.value);
  } finally {
    await database.value.stop();
    tree.value.remove();
  }
  const failedChecks = failures(await checks);
  for (const message of failedChecks) process.stderr.write(`${message}\n`);
  if (failedChecks.length) result.code ||= 1;
  process.stdout.write(`npm test: ${result.tests} tests in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.exit(result.code);
}

await main();
