/**
 * `npm test`: checks that generated code is fresh, lints the protos,
 * type-checks, then runs every test file with node's test runner against one
 * real PostgreSQL server (embedded, unless DATABASE_URL names one).
 * Each test file creates its own database on that server.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import { createLogger } from "../src/log/logger.js";
import { freePort } from "../src/net/free-port.js";

const root = path.resolve(import.meta.dirname, "..");
const bin = (name: string) => path.join(root, "node_modules/.bin", name);

function run(step: string, command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    process.stderr.write(`npm test: ${step} failed\n`);
    process.exit(result.status ?? 1);
  }
}

function listFiles(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => path.join(dir, f))
    .filter((f) => f.endsWith(suffix) && statSync(f).isFile())
    .sort();
}

function checkGeneratedCode(): void {
  const out = mkdtempSync(path.join(tmpdir(), "finger-gen-"));
  try {
    const gen = spawnSync(bin("buf"), ["generate", "-o", out], { cwd: root, stdio: "inherit" });
    if (gen.status !== 0) process.exit(1);
    const fresh = listFiles(path.join(out, "src/gen"), "").map((f) => path.relative(path.join(out, "src/gen"), f));
    const committed = listFiles(path.join(root, "src/gen"), "").map((f) => path.relative(path.join(root, "src/gen"), f));
    const stale = [...new Set([...fresh, ...committed])].filter((f) => {
      try {
        return !readFileSync(path.join(out, "src/gen", f)).equals(readFileSync(path.join(root, "src/gen", f)));
      } catch {
        return true;
      }
    });
    if (stale.length) {
      process.stderr.write(`npm test: src/gen is stale (${stale.join(", ")}); run \`npm run generate\` and commit\n`);
      process.exit(1);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  // The Python example's test needs Debian's protoc and grpcio, the wall-clock test libfaketime; install them on a fresh machine.
  if (process.platform === "linux" && spawnSync("which", ["apt-get"]).status === 0) {
    run("installing system packages", "bash", [path.join(root, "scripts/install-system-deps.sh")]);
  }
  checkGeneratedCode();
  run("buf lint", bin("buf"), ["lint"]);
  run("tsc --noEmit", bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]);

  const files = process.argv.slice(2).length ? process.argv.slice(2) : listFiles(path.join(root, "test"), ".test.ts");
  let databaseUrl = process.env.DATABASE_URL;
  let stopDatabase = async () => {};
  let dataDir: string | undefined;
  let code = 1;
  try {
    if (!databaseUrl) {
      dataDir = mkdtempSync(path.join(tmpdir(), "finger-test-pg-"));
      const embedded = await startEmbeddedPostgres({
        dataDir,
        port: await freePort(),
        database: "postgres",
        logger: createLogger({ level: "warn", format: "json" }),
      });
      databaseUrl = embedded.url;
      stopDatabase = () => embedded.stop();
    }
    const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, TEST_DATABASE_URL: databaseUrl },
    });
    code = await new Promise<number>((resolve) => child.on("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
  } finally {
    await stopDatabase();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(code);
}

await main();
