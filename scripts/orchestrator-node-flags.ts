/**
 * The node/V8 flags the orchestrator runs with, read from `npm start` in
 * package.json so that tests, benchmarks and the Dockerfile (checked by
 * test/deploy) start it exactly as an operator does.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

const projectRoot = path.resolve(import.meta.dirname, "..");

/** Flags between `node` and the entry point of `npm start`, without the tsx loader. */
export function orchestratorNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const words = pkg.scripts.start!.trim().split(/\s+/);
  const entry = words.indexOf("src/main.ts");
  if (words[0] !== "node" || entry < 0) throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  const flags = words.slice(1, entry);
  const loader = flags.indexOf("--import");
  if (loader >= 0) flags.splice(loader, 2);
  return flags;
}
