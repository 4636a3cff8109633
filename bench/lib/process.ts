/**
 * Child processes of a benchmark (the orchestrator under test, the bare echo
 * server) and cleanup that runs however the benchmark ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import path from "node:path";
import { sleep } from "../../test/helpers/wait.js";
import { freePort } from "../../src/net/free-port.js";
import { orchestratorNodeFlags } from "../../scripts/orchestrator-node-flags.js";

export const projectRoot = path.resolve(import.meta.dirname, "../..");

const cleanups: Array<() => Promise<void> | void> = [];
let cleaning: Promise<void> | undefined;

/** Registers work to do when the benchmark ends (normally, on error, or on Ctrl-C); runs last-in first-out. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const fn = cleanups.pop()!;
      try {
        await fn();
      } catch {
        // best effort: the rest must still run
      }
    }
  })();
  return cleaning;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping child processes\n`);
    void runCleanups().finally(() => process.exit(130));
  });
}

/**
 * Runs a benchmark's main function: cleanup afterwards, exit code 1 on error.
 * Exits explicitly so that lingering gRPC channels cannot keep the process alive.
 */
export function runMain(main: () => Promise<void>): void {
  main().then(
    async () => {
      await runCleanups();
      process.exit(0);
    },
    async (error: unknown) => {
      process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      await runCleanups();
      process.exit(1);
    },
  );
}

export { freePort };

/** A node child process running a TypeScript file through tsx, its output kept as a short tail. */
export interface NodeChild {
  child: ChildProcess;
  pid: number;
  /** The last lines it printed (stdout and stderr). */
  tail(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnNode(
  script: string,
  args: string[],
  env: Record<string, string>,
  onLine?: (line: string) => void,
  nodeArgs: string[] = [],
): NodeChild {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", script, ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  // BENCH_CHILD_LOG=file keeps children's whole output (e.g. with --trace-gc in BENCH_ORCHESTRATOR_NODE_ARGS).
  const logFile = process.env.BENCH_CHILD_LOG;
  const keep = (chunk: Buffer) => {
    if (logFile) appendFileSync(logFile, chunk);
    for (const line of chunk.toString().split("\n")) {
      if (!line.trim()) continue;
      onLine?.(line);
      lines.push(line.length > 2_000 ? `${line.slice(0, 2_000)}...` : line);
      if (lines.length > 40) lines.shift();
    }
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 15_000) => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) {
        child.kill("SIGKILL");
        await exited;
      }
    })();
    return stopping;
  };
  onCleanup(() => stop(5_000));
  return { child, pid: child.pid!, tail: () => lines.join("\n"), exited, stop };
}

/** The orchestrator under test, as an operator runs it, on free loopback ports. */
export interface OrchestratorChild extends NodeChild {
  grpcAddress: string;
  httpBase: string;
  /** GET /metrics (Prometheus text; served from memory, no database work). */
  metrics(): Promise<string>;
}

/** Timing settings every benchmark spells out; the rest of the configuration is the default. */
export type OrchestratorEnv = Record<string, string | number>;

export async function startOrchestrator(databaseUrl: string, env: OrchestratorEnv = {}): Promise<OrchestratorChild> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const vars: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    GRPC_PORT: String(grpcPort),
    HTTP_PORT: String(httpPort),
    BIND_HOST: "127.0.0.1",
    // BENCH_LOG_LEVEL=info (with BENCH_CHILD_LOG) keeps the orchestrator's audit trail of a run.
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
    LOG_FORMAT: "json",
  };
  for (const [k, v] of Object.entries(env)) vars[k] = String(v);
  // For profiling the orchestrator under load, e.g. BENCH_ORCHESTRATOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = [...orchestratorNodeFlags(), ...(process.env.BENCH_ORCHESTRATOR_NODE_ARGS ?? "").split(" ").filter(Boolean)];
  const node = spawnNode("src/main.ts", [], vars, undefined, nodeArgs);
  const httpBase = `http://127.0.0.1:${httpPort}`;
  const deadline = performance.now() + 60_000;
  for (;;) {
    if (node.child.exitCode !== null) throw new Error(`orchestrator exited with code ${node.child.exitCode}:\n${node.tail()}`);
    try {
      const response = await fetch(`${httpBase}/readyz`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`orchestrator not ready within 60 s:\n${node.tail()}`);
    await sleep(100);
  }
  return {
    ...node,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    httpBase,
    metrics: async () => (await fetch(`${httpBase}/metrics`)).text(),
  };
}

/** Sum of the samples of one metric in Prometheus text, optionally only those whose labels contain `labels`. */
export function metricValue(text: string, name: string, labels = ""): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    if (labels && !rest.includes(labels)) continue;
    total += Number(rest.slice(rest.lastIndexOf(" ") + 1));
  }
  return total;
}

/** The bare echo server (bench/lib/echo-server.ts) as a child process. */
export async function startEchoServer(streamsPerSession = 0): Promise<NodeChild & { address: string }> {
  let resolvePort: (port: number) => void = () => undefined;
  const port = new Promise<number>((resolve) => (resolvePort = resolve));
  // BENCH_ECHO_NODE_ARGS does for the echo what BENCH_ORCHESTRATOR_NODE_ARGS does for the orchestrator.
  const nodeArgs = (process.env.BENCH_ECHO_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const node = spawnNode(
    "bench/lib/echo-server.ts",
    [],
    { STREAMS_PER_SESSION: String(streamsPerSession) },
    (line) => {
      const m = /^listening (\d+)$/.exec(line.trim());
      if (m) resolvePort(Number(m[1]));
    },
    nodeArgs,
  );
  const bound = await Promise.race([
    port,
    node.exited.then(({ code }) => {
      throw new Error(`echo server exited with code ${code}:\n${node.tail()}`);
    }),
    sleep(30_000).then(() => {
      throw new Error(`echo server did not start within 30 s:\n${node.tail()}`);
    }),
  ]);
  return { ...node, address: `127.0.0.1:${bound}` };
}
