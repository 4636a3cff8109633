/**
 * Two things a bundle of the project needs to behave like the files it came
 * from (scripts/compiled-tree.ts):
 *
 * - `import.meta.url`/`dirname`/`filename` and CommonJS `__dirname` must
 *   still name the module's own place, not the bundle's: the code finds the
 *   migrations, the protos and package.json relative to itself, and so do
 *   some packages (grpc-health-check loads its .proto that way).
 * - Source maps only for our code. Node parses every source map when a module
 *   loads; the packages' share of a bundle's map is most of it, and cost each
 *   process more than the bundling saved. A stack frame in a package then
 *   shows the bundle's line, which is what it showed before bundling too.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { decode, encode } from "@jridgewell/sourcemap-codec";
import type { Plugin } from "esbuild";

const NODE_MODULES = `${path.sep}node_modules${path.sep}`;

/** `mirrorOf` maps a project file to the path its compiled twin has in the mirror. */
export function ownPlacePlugin(mirrorOf: (projectFile: string) => string): Plugin {
  return {
    name: "own-place",
    setup(build) {
      build.onLoad({ filter: /\.c?js$/ }, (args) => {
        if (!args.path.includes(NODE_MODULES)) return undefined;
        const text = readFileSync(args.path, "utf8");
        if (!text.includes("__dirname") && !text.includes("__filename")) return undefined;
        const contents = text.replaceAll("__dirname", JSON.stringify(path.dirname(args.path))).replaceAll("__filename", JSON.stringify(args.path));
        return { contents, loader: "js" };
      });
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes(NODE_MODULES)) return undefined;
        const own = mirrorOf(args.path);
        const contents = readFileSync(args.path, "utf8")
          .replaceAll("import.meta.dirname", JSON.stringify(path.dirname(own)))
          .replaceAll("import.meta.filename", JSON.stringify(own))
          .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(own).href));
        return { contents, loader: "ts" };
      });
    },
  };
}

/**
 * Rewrites each `.map` among `outputs` to map only lines that came from our
 * sources; a bundle with none loses its map and the comment pointing at it.
 */
export function keepOwnMappings(outputs: string[]): void {
  for (const mapFile of outputs.filter((f) => f.endsWith(".map"))) {
    const map = JSON.parse(readFileSync(mapFile, "utf8")) as { sources: string[]; mappings: string };
    const ours = new Set(map.sources.flatMap((source, i) => (source.includes("node_modules/") ? [] : [i])));
    if (ours.size === 0) {
      rmSync(mapFile);
      const code = mapFile.slice(0, -".map".length);
      writeFileSync(code, readFileSync(code, "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"));
      continue;
    }
    map.mappings = encode(decode(map.mappings).map((line) => line.filter((segment) => segment.length > 1 && ours.has(segment[1]!))));
    writeFileSync(mapFile, JSON.stringify(map));
  }
}
