/**
 * The tree `npm test` runs on: a mirror of the project in a temp folder where
 * every TypeScript file has its JavaScript beside it, compiled once by esbuild.
 *
 * Why: tsx compiles in a loader thread of every node process it runs in, which
 * costs about 0.4 s of CPU per process; a test run starts well over a hundred
 * (a runner per test file, every orchestrator, CLI and benchmark a test
 * spawns). On our 2-core machines that was a third of `npm test`. Type checking
 * is tsc's job (run beside this); esbuild only strips the types, as tsx does.
 *
 * The mirror holds symbolic links to everything else (node_modules, proto,
 * the README, the shell scripts...), so that code resolving paths from
 * `import.meta.dirname` finds what it finds in the project. The .ts files
 * themselves are left out: the migrator would load both a migration and its
 * compiled twin. Spawned children are given the `.js` entry points and run
 * without a loader (test/helpers/process.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";

/** Top-level folders whose TypeScript is compiled; everything else at the top is linked. */
const COMPILED = ["src", "test", "scripts", "bench", "migrations"];

export interface CompiledTree {
  root: string;
  /** The mirror's path of a project file (`test/a.test.ts` → `<root>/test/a.test.js`). */
  compiledPath(projectFile: string): string;
  /** The project file a path reported by a test came from (a mirror path, or a source path via source maps), relative to the project. */
  sourceOf(compiledFile: string): string;
  remove(): void;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => statSync(path.join(dir, f)).isFile());
}

export async function buildCompiledTree(projectRoot: string): Promise<CompiledTree> {
  const root = mkdtempSync(path.join(tmpdir(), "finger-compiled-"));
  try {
    const entryPoints: string[] = [];
    for (const entry of readdirSync(projectRoot)) {
      if (entry === ".git") continue;
      if (!COMPILED.includes(entry)) {
        symlinkSync(path.join(projectRoot, entry), path.join(root, entry));
        continue;
      }
      for (const file of walk(path.join(projectRoot, entry))) {
        const relative = path.join(entry, file);
        if (relative.endsWith(".ts")) {
          entryPoints.push(path.join(projectRoot, relative));
          continue;
        }
        mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
        symlinkSync(path.join(projectRoot, relative), path.join(root, relative));
      }
    }
    await build({
      entryPoints,
      outdir: root,
      outbase: projectRoot,
      format: "esm",
      platform: "node",
      target: `node${process.versions.node.split(".")[0]}`,
      // Failures point at the TypeScript line (node runs with --enable-source-maps).
      sourcemap: "inline",
      sourcesContent: false,
      logLevel: "warning",
    });
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    root,
    compiledPath: (file) => path.join(root, path.relative(projectRoot, path.resolve(projectRoot, file)).replace(/\.ts$/, ".js")),
    sourceOf: (file) => (file.startsWith(root + path.sep) ? path.relative(root, file).replace(/\.js$/, ".ts") : path.relative(projectRoot, file)),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
