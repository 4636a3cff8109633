/**
 * The Python example instance (examples/python/example_instance.py, a worker on the
 * finger_orchestrator package) as a child process for its tests: the toolchain check, a
 * snippet run against the package, and the process with its log lines parsed into worker
 * events. The package is imported from its source tree (clients/python/src), as
 * python-package.test.ts checks it installs.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { projectRoot } from "./process.js";

export const PYTHON = "/usr/bin/python3";
export const EXAMPLE_DIR = path.join(projectRoot, "examples/python");
export const PACKAGE_SOURCE = path.join(projectRoot, "clients/python/src");
const APT_PACKAGES = "python3-grpcio python3-protobuf";

/** Fails (never skips) with the apt-get line that fixes a missing toolchain. */
export function checkToolchain(): void {
  const imports = spawnSync(PYTHON, ["-c", "import grpc, google.protobuf"], { encoding: "utf8" });
  if (imports.error || imports.status !== 0) {
    const why = imports.error?.message ?? imports.stderr.trim().split("\n").pop();
    throw new Error(
      `the Python example cannot run: ${PYTHON} cannot import grpc and google.protobuf (${why}). ` +
        `Install Debian's packages: apt-get update && apt-get install -y ${APT_PACKAGES} (scripts/install-system-deps.sh does)`,
    );
  }
}

/** What the Python processes of these tests run with: the package's source first on the path. */
export function pythonEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", PYTHONPATH: PACKAGE_SOURCE, PYTHONDONTWRITEBYTECODE: "1" };
}

/** Runs `script` with the example's folder as the current one and returns what it printed as JSON. */
export function runPythonJson<T>(script: string): T {
  const run = spawnSync(PYTHON, ["-c", script], { cwd: EXAMPLE_DIR, encoding: "utf8", env: pythonEnv() });
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

  constructor(env: Record<string, string>, script = path.join(EXAMPLE_DIR, "example_instance.py")) {
    this.child = spawn(PYTHON, [script], {
      cwd: projectRoot,
      // A clean environment: nothing of a pyenv or the orchestrator's own settings leaks in.
      env: { ...pythonEnv(), PYTHONUNBUFFERED: "1", ...env },
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
