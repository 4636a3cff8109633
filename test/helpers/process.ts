import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { orchestratorNodeFlags } from "../../scripts/orchestrator-node-flags.js";

export const projectRoot = path.resolve(import.meta.dirname, "../..");

export { freePort } from "../../src/net/free-port.js";

/** The orchestrator as an operator runs it (`npm start`'s node command), output captured. */
export interface OrchestratorProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export function spawnOrchestrator(env: Record<string, string>): OrchestratorProcess {
  const child = spawn(process.execPath, [...orchestratorNodeFlags(), "--import", "tsx", "src/main.ts"], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `url` until it answers 200, or fails after `timeoutMs`. */
export async function waitForHttp200(url: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    try {
      const response = await fetch(url);
      if (response.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** What a finished script printed, and its exit code. */
export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript entry point (e.g. a CLI under src/cli) as an operator does,
 * through tsx, with only PATH, HOME and `env` in its environment. Asynchronous,
 * so an orchestrator running in the test process keeps serving meanwhile.
 */
export function runScript(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<ScriptResult> {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}
