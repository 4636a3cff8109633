/**
 * Child processes of a benchmark (the orchestrator under test, the bare echo
 * server) and cleanup that runs however the benchmark ends.
 */
import {
  freePort,
  spawnNode,
  spawnOrchestrator,
  waitForHttp200,
  type NodeChild,
  type SpawnOptions,
} from "../../test/helpers/process.js";
import { sleep } from "../../test/helpers/wait.js";

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
      // A child that died first is the likelier cause (e.g. an orchestrator crash behind ECONNREFUSED).
      for (const { script, node } of children) {
        if (node.child.exitCode !== null) process.stderr.write(`${script} (pid ${node.pid}) had exited with code ${node.child.exitCode}:\n${node.output()}\n`);
      }
      await runCleanups();
      process.exit(1);
    },
  );
}

export type { NodeChild };

/**
 * Only the last lines of a child's output are kept, for error messages;
 * BENCH_CHILD_LOG=file keeps it all (e.g. with --trace-gc in BENCH_ORCHESTRATOR_NODE_ARGS).
 */
const CHILD_OUTPUT = { keepLines: 40, logFile: process.env.BENCH_CHILD_LOG } as const;

/** A child of the benchmark (a tsx entry point), stopped when the benchmark ends. */
export function spawnBenchChild(script: string, options: Omit<SpawnOptions, "keepLines" | "logFile"> = {}): NodeChild {
  return superviseChild(script, spawnNode(script, { ...options, ...CHILD_OUTPUT }));
}

const children: Array<{ script: string; node: NodeChild }> = [];

function superviseChild(script: string, node: NodeChild): NodeChild {
  children.push({ script, node });
  onCleanup(() => node.stop(5_000));
  return node;
}

/** The orchestrator under test, as an operator runs it, on free loopback ports. */
export interface OrchestratorChild extends NodeChild {
  grpcAddress: string;
  httpBase: string;
  /** GET /metrics (Prometheus text; served from memory, no database work). */
  metrics(): Promise<string>;
}

/**
 * Load generators multiplex sessions on few connections and send as fast as they can: the
 * limits on what one client sends are for strangers, not for them (a benchmark may set its own).
 */
export const LOAD_GENERATOR_LIMITS: Record<string, string> = {
  MAX_SESSIONS: "1000000",
  MAX_SESSIONS_PER_CONNECTION: "1000000",
  SESSION_MESSAGES_PER_SECOND: "1000000",
  SESSION_MESSAGE_BURST: "1000000",
};

/** Timing settings every benchmark spells out; the rest of the configuration is the default. */
export type OrchestratorEnv = Record<string, string | number>;

export interface StartOptions {
  /** Ports to bind (a replica restarted where its peers and instances know it); free ones otherwise. */
  ports?: { grpc: number; http: number };
  /**
   * What start-up waits for: "ready" (/readyz 200: serving instances) or "alive"
   * (/healthz 200: a replica that may stand by, which is never ready).
   */
  until?: "ready" | "alive";
}

export async function startOrchestrator(databaseUrl: string, env: OrchestratorEnv = {}, options: StartOptions = {}): Promise<OrchestratorChild> {
  const [grpcPort, httpPort] = options.ports ? [options.ports.grpc, options.ports.http] : [await freePort(), await freePort()];
  const vars: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    GRPC_PORT: String(grpcPort),
    HTTP_PORT: String(httpPort),
    BIND_HOST: "127.0.0.1",
    // BENCH_LOG_LEVEL=info (with BENCH_CHILD_LOG) keeps the orchestrator's audit trail of a run.
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
    ...LOAD_GENERATOR_LIMITS,
  };
  for (const [k, v] of Object.entries(env)) vars[k] = String(v);
  // For profiling the orchestrator under load, e.g. BENCH_ORCHESTRATOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_ORCHESTRATOR_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const node = superviseChild("the orchestrator", spawnOrchestrator(vars, { nodeArgs, ...CHILD_OUTPUT }));
  const httpBase = `http://127.0.0.1:${httpPort}`;
  await waitForHttp200(`${httpBase}/${options.until === "alive" ? "healthz" : "readyz"}`, 60_000, node);
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
  const node = spawnBenchChild("bench/lib/echo-server.ts", {
    env: { STREAMS_PER_SESSION: String(streamsPerSession) },
    onLine: (line) => {
      const m = /^listening (\d+)$/.exec(line.trim());
      if (m) resolvePort(Number(m[1]));
    },
    nodeArgs,
  });
  const bound = await Promise.race([
    port,
    node.exited.then(({ code }) => {
      throw new Error(`echo server exited with code ${code}:\n${node.output()}`);
    }),
    sleep(30_000).then(() => {
      throw new Error(`echo server did not start within 30 s:\n${node.output()}`);
    }),
  ]);
  return { ...node, address: `127.0.0.1:${bound}` };
}
