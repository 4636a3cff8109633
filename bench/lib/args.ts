/**
 * Command-line flags of the benchmark programs: `--name value` or `--name=value`,
 * `--quick` (small sizes for a smoke run) and `--help`. Every flag has a full-size
 * default and optionally a quick one; names are kebab-case on the command line and
 * camelCase in code.
 */

export interface FlagSpec<T extends number | string = number | string> {
  help: string;
  full: T;
  /** Value under `--quick`; the full value when absent. */
  quick?: T;
}

export type FlagValues<S extends Record<string, FlagSpec>> = { [K in keyof S]: S[K]["full"] };

export interface ParsedArgs<S extends Record<string, FlagSpec>> {
  quick: boolean;
  flags: FlagValues<S>;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function usage(program: string, description: string, spec: Record<string, FlagSpec>): string {
  const lines = [`usage: node --import tsx bench/${program}.ts [--quick] [flags]`, "", description, "", "flags (full default / --quick default):"];
  lines.push(`  --quick`.padEnd(32) + "small sizes, for a smoke run");
  for (const [name, f] of Object.entries(spec)) {
    const defaults = f.quick === undefined || f.quick === f.full ? `${f.full}` : `${f.full} / ${f.quick}`;
    lines.push(`  --${kebab(name)} <${typeof f.full === "number" ? "n" : "text"}>`.padEnd(32) + `${f.help} (${defaults})`);
  }
  return lines.join("\n");
}

/**
 * Parses `argv` against `spec`; prints usage and exits on `--help` or on a bad flag.
 */
export function parseArgs<S extends Record<string, FlagSpec>>(
  program: string,
  description: string,
  spec: S,
  argv: string[] = process.argv.slice(2),
): ParsedArgs<S> {
  const byKebab = new Map(Object.keys(spec).map((k) => [kebab(k), k]));
  const quick = argv.includes("--quick");
  const values: Record<string, number | string> = {};
  for (const [name, f] of Object.entries(spec)) values[name] = quick && f.quick !== undefined ? f.quick : f.full;
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n\n${usage(program, description, spec)}\n`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") continue;
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(`${usage(program, description, spec)}\n`);
      process.exit(0);
    }
    if (!arg.startsWith("--")) fail(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const name = byKebab.get(flag);
    if (!name) fail(`unknown flag --${flag}`);
    const raw = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) fail(`--${flag} needs a value`);
    const f = spec[name!]!;
    if (typeof f.full === "number") {
      const n = Number(raw!.replaceAll("_", ""));
      if (!Number.isFinite(n) || n < 0) fail(`--${flag} must be a non-negative number, got ${JSON.stringify(raw)}`);
      values[name!] = n;
    } else {
      values[name!] = raw!;
    }
  }
  return { quick, flags: values as FlagValues<S> };
}

/** The orchestrator's timing flags, shared by the benchmarks that run a fleet. */
export const TIMING_FLAGS = {
  heartbeatIntervalMs: { help: "HEARTBEAT_INTERVAL_MS, also the instances' heartbeat period", full: 1_000 },
  leaseTtlMs: { help: "LEASE_TTL_MS", full: 3_000 },
  reconnectGraceMs: { help: "RECONNECT_GRACE_MS", full: 1_000 },
} as const satisfies Record<string, FlagSpec<number>>;

/** `--database-url`'s value that means "start an embedded cluster of the run's own". */
export const EMBEDDED = "embedded";

/** Where the run's databases live, for every benchmark that starts an orchestrator. */
export const DATABASE_FLAGS = {
  databaseUrl: {
    help: "PostgreSQL to make the run's databases on: embedded (a cluster of the run's own, removed at the end) or a running server's superuser URL, e.g. a test server",
    full: EMBEDDED,
  },
} as const satisfies Record<string, FlagSpec<string>>;
