/**
 * The Python example instance (examples/python/example_instance.py) as a child
 * process for its tests: the toolchain check and the stubs, a snippet run
 * against the example's modules, and the process with its log lines parsed
 * into worker events.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { projectRoot } from "./process.js";

export const PYTHON = "/usr/bin/python3";
export const EXAMPLE_DIR = path.join(projectRoot, "examples/python");
const APT_PACKAGES = "python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc";

/** Fails (never skips) with the apt-get line that fixes a missing toolchain. */
export function checkToolchain(): void {
  const problems: string[] = [];
  const imports = spawnSync(PYTHON, ["-c", "import grpc, google.protobuf"], { encoding: "utf8" });
  if (imports.error || imports.status !== 0) {
    const why = imports.error?.message ?? imports.stderr.trim().split("\n").pop();
    problems.push(`${PYTHON} cannot import grpc and google.protobuf (${why})`);
  }
  for (const tool of ["protoc", "grpc_python_plugin"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) problems.push(`${tool} is not on PATH`);
  }
  if (problems.length) {
    throw new Error(
      `the Python example cannot run: ${problems.join("; ")}. ` +
        `Install Debian's packages: apt-get update && apt-get install -y ${APT_PACKAGES} (CI does it in .ci/run)`,
    );
  }
}

/** Checks the toolchain, then runs the README's generate command into a new temporary folder (the caller removes it). */
export function generateStubs(): string {
  checkToolchain();
  const genDir = mkdtempSync(path.join(tmpdir(), "finger-python-gen-"));
  const gen = spawnSync("sh", [path.join(EXAMPLE_DIR, "generate.sh"), genDir], { encoding: "utf8" });
  assert.equal(gen.status, 0, `generate.sh failed: ${gen.stderr}`);
  return genDir;
}

/** Runs `script` with the example's folder as the current one and returns what it printed as JSON. */
export function runPythonJson<T>(genDir: string, script: string): T {
  const run = spawnSync(PYTHON, ["-c", script], {
    cwd: EXAMPLE_DIR,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", PYTHONPATH: genDir, PYTHONDONTWRITEBYTECODE: "1" },
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as T;
}

export interface WorkerEvent {
  /** Unix time in ms, from the worker's own log line. */
  at: number;
  what: "start" | "stopping" | "stop";
  id: string;
  epoch?: number;
}

/** example_instance.py (or another worker script, `script`) as a child process, its stdout lines parsed as they arrive. */
export class PythonInstance {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `pythonPath`: what the script imports from (the stubs' folder, or the package's source). */
  constructor(pythonPath: string, env: Record<string, string>, script = path.join(EXAMPLE_DIR, "example_instance.py")) {
    this.child = spawn(PYTHON, [script], {
      cwd: projectRoot,
      // A clean environment: nothing of a pyenv or the orchestrator's own settings leaks in.
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/root",
        PYTHONPATH: pythonPath,
        PYTHONUNBUFFERED: "1",
        PYTHONDONTWRITEBYTECODE: "1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => this.lines.push(line));
    }
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
  }

  output(): string {
    return this.lines.join("\n");
  }

  events(): WorkerEvent[] {
    const out: WorkerEvent[] = [];
    for (const line of this.lines) {
      const m = /^(\d+\.\d{3}) INFO worker: (start|stopping|stop) (\S+)(?: epoch=(\d+))?/.exec(line);
      if (!m) continue;
      const event: WorkerEvent = { at: Math.round(Number(m[1]) * 1000), what: m[2] as WorkerEvent["what"], id: m[3]! };
      if (m[4] !== undefined) event.epoch = Number(m[4]);
      out.push(event);
    }
    return out;
  }

  /** Stream id to epoch of what the worker runs now, replayed from its start and stop lines. */
  running(): Map<string, number> {
    const running = new Map<string, number>();
    for (const e of this.events()) {
      if (e.what === "start") running.set(e.id, e.epoch ?? -1);
      if (e.what === "stop") running.delete(e.id);
    }
    return running;
  }

  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l)).length;
  }

  async exit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (!result) throw new Error(`python did not exit within ${timeoutMs} ms; output:\n${this.output()}`);
    return result;
  }
}
