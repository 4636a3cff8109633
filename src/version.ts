import { existsSync, readFileSync } from "node:fs";

function readVersion(): string {
  // Source runs from src/, the compiled build from dist/src/: look in both places.
  for (const relative of ["../package.json", "../../package.json"]) {
    const url = new URL(relative, import.meta.url);
    if (existsSync(url)) return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  }
  return "0.0.0-unknown";
}

/** The orchestrator's version, from package.json. */
export const VERSION = readVersion();
