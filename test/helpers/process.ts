/**
 * Child processes of the tests and the benchmarks: TypeScript entry points run
 * through tsx as an operator runs them, with a clean environment and their
 * output captured.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import path from "node:path";
import { orchestratorNodeFlags } from "../../scripts/orchestrator-node-flags.js";
import { pollUntil, sleep } from "./wait.js";

export const projectRoot = path.resolve(import.meta.dirname, "../..");

export { freePort } from "../../src/net/free-port.js";

export interface SpawnOptions {
  args?: string[];
  /** The child's environment besides PATH and HOME; nothing else of ours leaks in. */
  env?: Record<string, string>;
  /** node flags before the tsx loader (V8 flags, profiling). */
  nodeArgs?: string[];
  /** Called with every non-empty line the child prints, on stdout or stderr. */
  onLine?: (line: string) => void;
  /** Keep only the last this many lines of each stream (a long benchmark child prints a lot); all by default. */
  keepLines?: number;
  /** Also append everything the child prints to this file. */
  logFile?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when it exited. */
  at: number;
}

export interface NodeChild {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Both streams, for error messages. */
  output(): string;
  exited: Promise<Exit>;
  /** Its output streams are closed too: everything it printed has been read. */
  closed: Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** What a child printed on one stream: all of it, or its last lines. */
class Captured {
  private text = "";
  private readonly lines: string[] = [];
  private partial = "";

  constructor(private readonly options: SpawnOptions) {}

  add(chunk: string): void {
    if (this.options.keepLines === undefined) this.text += chunk;
    if (this.options.keepLines === undefined && !this.options.onLine) return;
    const parts = (this.partial + chunk).split("\n");
    this.partial = parts.pop()!;
    for (const line of parts) this.line(line);
  }

  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = "";
  }

  private line(line: string): void {
    if (!line.trim()) return;
    this.options.onLine?.(line);
    if (this.options.keepLines === undefined) return;
    this.lines.push(line.length > 2_000 ? `${line.slice(0, 2_000)}...` : line);
    if (this.lines.length > this.options.keepLines) this.lines.shift();
  }

  toString(): string {
    return this.options.keepLines === undefined ? this.text : this.lines.join("\n");
  }
}

/**
 * True when this file runs compiled, in the tree npm test builds
 * (scripts/compiled-tree.ts): children then run the compiled entry points
 * without tsx, whose loader thread costs each process about 0.4 s of CPU.
 */
const compiled = import.meta.url.endsWith(".js");

/** How node runs a TypeScript entry point of the project: through tsx, or its compiled twin. */
export function nodeEntry(script: string): string[] {
  return compiled ? ["--enable-source-maps", script.replace(/\.ts$/, ".js")] : ["--import", "tsx", script];
}

/** Runs `node [nodeArgs] --import tsx <script> [args]` in the project folder (or its compiled twin, see nodeEntry). */
export function spawnNode(script: string, options: SpawnOptions = {}): NodeChild {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...nodeEntry(script), ...(options.args ?? [])], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = new Captured(options);
  const err = new Captured(options);
  for (const [stream, captured] of [[child.stdout!, out], [child.stderr!, err]] as const) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      if (options.logFile) appendFileSync(options.logFile, chunk);
      captured.add(chunk);
    });
    stream.on("end", () => captured.end());
  }
  const exited = new Promise<Exit>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })));
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 15_000) => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return;
      child.kill("SIGKILL");
      await exited;
    })();
    return stopping;
  };
  const output = () => [out.toString(), err.toString()].filter((s) => s.trim()).join("\n");
  return { child, pid: child.pid!, stdout: () => out.toString(), stderr: () => err.toString(), output, exited, closed, stop };
}

/** The orchestrator as an operator runs it (`npm start`'s node command), logging JSON unless `env` says otherwise. */
export function spawnOrchestrator(env: Record<string, string>, options: Omit<SpawnOptions, "env" | "args"> = {}): NodeChild {
  return spawnNode("src/main.ts", {
    ...options,
    env: { LOG_FORMAT: "json", ...env },
    nodeArgs: [...orchestratorNodeFlags(), ...(options.nodeArgs ?? [])],
  });
}

/**
 * Polls `url` until it answers 200, or fails after `timeoutMs`, or as soon as
 * `child` (the server behind it) exits, with what it printed.
 * @returns the milliseconds waited.
 */
export async function waitForHttp200(url: string, timeoutMs: number, child?: NodeChild): Promise<number> {
  const started = performance.now();
  const answered = await pollUntil(
    async () => {
      if (child && child.child.exitCode !== null) throw new Error(`exited with code ${child.child.exitCode} before ${url} answered:\n${child.output()}`);
      try {
        return (await fetch(url)).status === 200;
      } catch {
        return false; // not listening yet
      }
    },
    timeoutMs,
    50,
  );
  if (!answered) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms${child ? `:\n${child.output()}` : ""}`);
  return performance.now() - started;
}

/** What a finished script printed, and its exit code. */
export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript entry point (a CLI under src/cli, a benchmark) to its end.
 * Asynchronous, so an orchestrator running in the test process keeps serving
 * meanwhile. After `interruptAfterMs` it gets SIGINT (a benchmark then stops its own children).
 */
export async function runScript(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
  options: { interruptAfterMs?: number } = {},
): Promise<ScriptResult> {
  const node = spawnNode(script, { args, env });
  const timer = options.interruptAfterMs === undefined ? undefined : setTimeout(() => node.child.kill("SIGINT"), options.interruptAfterMs);
  const [{ code }] = await Promise.all([node.exited, node.closed]);
  clearTimeout(timer);
  return { code, stdout: node.stdout(), stderr: node.stderr() };
}
