/**
 * The Python client package (clients/python) installed as a user installs it: pip from Debian's
 * packages, nothing downloaded (`--no-build-isolation --no-index`), into a virtualenv that sees
 * Debian's grpcio and protobuf; and a way to run its pytest tests without blocking the event loop.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import assert from "node:assert/strict";
import { projectRoot } from "./process.js";
import { PYTHON } from "./python-instance.js";

export const PACKAGE_DIR = path.join(projectRoot, "clients/python");
export const APT = "apt-get install -y python3-grpcio python3-protobuf python3-pip python3-venv python3-setuptools python3-pytest python3-asyncpg python3-psycopg";

/** Runs a command without blocking the event loop (an orchestrator may run in this process). */
export function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", PYTHONDONTWRITEBYTECODE: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

export interface InstalledPackage {
  /** The temporary folder (the caller removes it): `source/` is the copy pip built from, tests included. */
  work: string;
  venvPython: string;
  /** Resolves once pip is done; rejects with pip's output when it failed. */
  installed: Promise<void>;
}

/** Creates the virtualenv and starts pip (await `installed`), so the caller can start orchestrators meanwhile. */
export async function installPackage(prefix: string): Promise<InstalledPackage> {
  const work = mkdtempSync(path.join(tmpdir(), prefix));
  // A copy: pip builds in the source tree, which must stay clean.
  const source = path.join(work, "source");
  cpSync(PACKAGE_DIR, source, { recursive: true, filter: (f) => !/(__pycache__|\.egg-info|\/build)$/.test(f) });
  const venv = await run(PYTHON, ["-m", "venv", "--system-site-packages", "--without-pip", path.join(work, "venv")]);
  assert.equal(venv.code, 0, `${PYTHON} -m venv failed (${APT}): ${venv.output}`);
  const venvPython = path.join(work, "venv/bin/python");
  const installed = run(venvPython, ["-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-index", "--disable-pip-version-check", source]).then((install) => {
    assert.equal(install.code, 0, `pip install ./clients/python failed (${APT}): ${install.output}`);
  });
  return { work, venvPython, installed };
}
