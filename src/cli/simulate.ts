import { parseArgs } from "node:util";
import { status } from "@grpc/grpc-js";
import type { ConnectionSecurity } from "../client/connection-security.js";
import { ConfigError } from "../config/config.js";
import { AdminCallError } from "../simulator/admin-api.js";
import { ChurnSpecError, checkScheduleFits, formatDuration, parseChurnSpec, parseDuration, type ChurnEvent } from "../simulator/churn-spec.js";
import { FAST_TIMINGS, startInProcessOrchestrator, type InProcessOrchestrator } from "../simulator/in-process-orchestrator.js";
import { onInterrupt } from "../simulator/interrupts.js";
import { LiveView } from "../simulator/live-view.js";
import { randomSeed } from "../simulator/random.js";
import { renderReport } from "../simulator/report.js";
import { Simulation, type SimulationOptions } from "../simulator/simulation.js";
import { SessionRefusedError } from "../simulator/virtual-fleet.js";
import { muteIpServerNameWarning, parseTargetUrl, securityOf, TargetError, tokenOf } from "./orchestrator-target.js";

const USAGE = `usage: npm run simulate -- [options]

Runs a fleet of virtual instances (real TypeScript InstanceClients) against an
orchestrator, injects faults on a schedule, and measures from the instances' side:
who runs what, double ownership, failover times, moves and balance.

Without --address it starts its own orchestrator in this process, on an embedded
PostgreSQL in a temporary folder, with fast timings, and removes it all afterwards.

  --instances N        virtual instances at the start (default 20)
  --streams N          streams to create, named sim-00001... (default 500)
  --capacity C[,C...]  capacity of each instance; several values are handed out in
                       turn, joins included (default: all streams fit with ~25 % headroom)
  --churn SPEC         faults to inject, see below (default: none)
  --duration D         length of the scenario after setup (default 60s)
  --seed N             seed for picking victims (default random; shown in the report)
  --address ADDRESS    use a running orchestrator: host:port, grpcs://host[:port] or
                       https://... for TLS, grpc:// or http:// for plaintext; the sim-*
                       streams are created there and deleted at the end (unless
                       --keep-streams)
  --keep-streams       with --address: leave the simulated streams in the catalog
  --heartbeat D        in-process orchestrator: heartbeat interval (default 1s)
  --lease D            in-process orchestrator: lease TTL (default 3s)
  --grace D            in-process orchestrator: reconnect grace (default 1s)
  --log-level LEVEL    in-process orchestrator logs, JSON on stderr (default silent)
  --setup-timeout D    how long connecting and placing may take (default 60s)
  --plain              one plain line per second even on a terminal
  -h, --help           show this help

Durations: 500ms, 10s, 1.5s, 2m (for the options above a bare number means seconds).

Churn spec: comma-separated events ACTION:COUNT@TIME[/LENGTH]
  kill:5@10s          5 instances crash: connection cut, no leave, their streams gone
  partition:3@20s/8s  3 instances go silent both ways (no heartbeats, nothing read)
                      for 8s (default 5s), then recover
  restart:2@30s/3s    2 instances crash and reconnect after 3s (default 2s), still
                      running their streams and reporting them as held
  leave:2@35s         2 instances stop everything and leave gracefully
  join:5@40s          5 new instances join
TIME counts from the end of setup (every instance up, every stream running). Victims
are picked at random among the instances that are up at that moment.

What is measured:
  violation   a stream running on two up instances at once (an instance is up once it
              applied the full assignment of its session). A partitioned or restarting
              instance may keep running what the orchestrator moved; that is expected
              of non-strict clients and not counted.
  failover    per victim, from the fault until every stream it ran is running on an
              up instance again (p50/p99/max over all victims).
  spread      max - min of (running - capacity-weighted fair share) over up instances.

Environment, with --address (once the orchestrator has tokens or TLS):
  ORCHESTRATOR_TOKEN        the virtual instances' token: an instance token
                            (INSTANCE_TOKENS) not bound to an id, as they all share it
  ORCHESTRATOR_ADMIN_TOKEN  the token of the admin calls that create, read and delete
                            the streams: an admin token (ADMIN_TOKENS)
  ORCHESTRATOR_CA_FILE      PEM CA certificates to trust instead of the system's roots;
                            setting it (or a certificate below) also turns TLS on
  ORCHESTRATOR_CERT_FILE,   a client certificate and its key for mutual TLS; every
  ORCHESTRATOR_KEY_FILE     instance presents it, so it must carry every sim-i-* id
A session or admin call refused during setup ends the run (exit code 1) with one line
naming the variable to fix.

Exit code: 0, or 2 when any violation was seen (1 for usage or start-up errors).

Example:
  npm run simulate -- --instances 200 --streams 5000 --duration 40 \\
      --churn kill:10@10s,partition:5@20s/6s,join:10@30s
`;

/** A mistake in the command line; printed as one line, exit code 1. */
class UsageError extends Error {}

function whole(text: string | undefined, flag: string, min: number, max: number, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function duration(text: string | undefined, flag: string, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const bare = /^\d+(\.\d+)?$/.test(text.trim()) ? `${text.trim()}s` : text;
  try {
    return parseDuration(bare, flag);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function capacities(text: string | undefined, instances: number, streams: number): number[] {
  // Enough for every stream with a quarter to spare, so a few faults still leave room.
  if (text === undefined) return [Math.min(10_000, Math.max(1, Math.ceil((streams * 1.25) / instances)))];
  return text.split(",").map((part) => whole(part.trim(), "--capacity", 0, 10_000, 0));
}

interface Plan {
  simulation: Omit<SimulationOptions, "address" | "orchestrator" | "instanceSecurity" | "adminSecurity">;
  /** With --address: where the orchestrator is and how the instances and the admin calls reach it. */
  external?: { address: string; tls: boolean; instances: ConnectionSecurity; admin: ConnectionSecurity };
  timings: typeof FAST_TIMINGS;
  logLevel: string;
  plain: boolean;
}

function plan(argv: string[]): Plan | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        instances: { type: "string" },
        streams: { type: "string" },
        capacity: { type: "string" },
        churn: { type: "string" },
        duration: { type: "string" },
        seed: { type: "string" },
        address: { type: "string" },
        "keep-streams": { type: "boolean", default: false },
        heartbeat: { type: "string" },
        lease: { type: "string" },
        grace: { type: "string" },
        "log-level": { type: "string" },
        "setup-timeout": { type: "string" },
        plain: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split(/\.\s|\n/)[0]}; see --help`);
  }
  const v = parsed.values;
  if (v.help) return undefined;
  const instances = whole(v.instances, "--instances", 1, 10_000, 20);
  const streams = whole(v.streams, "--streams", 0, 1_000_000, 500);
  const durationMs = duration(v.duration, "--duration", 60_000);
  if (durationMs <= 0) throw new UsageError("--duration must be longer than 0");
  let churn: ChurnEvent[];
  try {
    churn = parseChurnSpec(v.churn ?? "");
    checkScheduleFits(churn, durationMs);
  } catch (error) {
    if (error instanceof ChurnSpecError) throw new UsageError(`--churn: ${error.message}`);
    throw error;
  }
  const inProcessOnly = (["heartbeat", "lease", "grace", "log-level"] as const).filter((k) => v[k] !== undefined);
  if (v.address !== undefined && inProcessOnly.length) {
    throw new UsageError(`--${inProcessOnly[0]} applies only to the in-process orchestrator, not with --address`);
  }
  if (v.address === undefined && v["keep-streams"]) throw new UsageError("--keep-streams applies only with --address");
  let external: Plan["external"];
  if (v.address !== undefined) {
    const { address, tls } = parseTargetUrl(v.address, "--address");
    // Two roles, two tokens: an instance token may not call AdminService, nor an admin token Connect.
    const instances = securityOf(process.env, tls);
    const adminToken = tokenOf(process.env, "ORCHESTRATOR_ADMIN_TOKEN");
    const admin = { ...(instances.tls ? { tls: instances.tls } : {}), ...(adminToken ? { token: adminToken } : {}) };
    external = { address, tls: instances.tls !== undefined, instances, admin };
  }
  const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
  if (v["log-level"] !== undefined && !levels.includes(v["log-level"])) {
    throw new UsageError(`--log-level must be one of ${levels.join(", ")}, got "${v["log-level"]}"`);
  }
  const timings = {
    heartbeatMs: duration(v.heartbeat, "--heartbeat", FAST_TIMINGS.heartbeatMs),
    leaseMs: duration(v.lease, "--lease", FAST_TIMINGS.leaseMs),
    graceMs: duration(v.grace, "--grace", FAST_TIMINGS.graceMs),
  };
  if (Math.min(timings.heartbeatMs, timings.graceMs) < 1) throw new UsageError("--heartbeat and --grace must be at least 1ms");
  if (timings.leaseMs <= timings.heartbeatMs) {
    throw new UsageError(`--lease (${formatDuration(timings.leaseMs)}) must be longer than --heartbeat (${formatDuration(timings.heartbeatMs)})`);
  }
  return {
    simulation: {
      instances,
      streams,
      capacities: capacities(v.capacity, instances, streams),
      churn,
      durationMs,
      seed: whole(v.seed, "--seed", 0, 2 ** 32 - 1, randomSeed()),
      setupTimeoutMs: duration(v["setup-timeout"], "--setup-timeout", 60_000),
      deleteStreams: v.address !== undefined && !v["keep-streams"],
    },
    ...(external ? { external } : {}),
    timings,
    logLevel: v["log-level"] ?? "silent",
    plain: v.plain,
  };
}

function write(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}

async function main(argv: string[]): Promise<void> {
  const p = plan(argv);
  if (!p) {
    await write(USAGE);
    return;
  }
  const view = new LiveView(process.stdout, { tty: process.stdout.isTTY === true && !p.plain });
  let simulation: Simulation | undefined;
  let interrupted = false;
  const stopListening = onInterrupt((source) => {
    if (interrupted) {
      process.stderr.write(`\nsimulate: second ${source}, exiting without cleaning up\n`);
      process.exit(130);
    }
    interrupted = true;
    view.note(`${source}: stopping; closing every instance (${source} again to exit at once)`);
    simulation?.stop();
  });
  process.on("uncaughtException", (error) => {
    // A signal sent to the whole process group (not a Ctrl-C key, which is read as a byte)
    // also stops the embedded PostgreSQL, and pg then throws from a connection it loses.
    if (interrupted && /Connection terminated/.test(error.message)) return;
    process.stderr.write(`simulate: unexpected error: ${error.stack ?? error.message}\n`);
    process.exit(1);
  });

  let orchestrator: InProcessOrchestrator | undefined;
  try {
    if (p.external === undefined) {
      view.note("starting an orchestrator in this process on an embedded PostgreSQL…");
      try {
        orchestrator = await startInProcessOrchestrator(p.timings, p.logLevel);
      } catch (error) {
        if (!interrupted) throw error;
      }
      if (interrupted) {
        view.note("interrupted before the simulation started");
        return;
      }
      view.note(`orchestrator listening on ${orchestrator?.address}`);
    }
    simulation = new Simulation(
      {
        ...p.simulation,
        address: orchestrator?.address ?? (p.external?.address as string),
        orchestrator: orchestrator?.description ?? `${p.external?.address} (external${p.external?.tls ? ", TLS" : ""})`,
        ...(p.external ? { instanceSecurity: p.external.instances, adminSecurity: p.external.admin } : {}),
      },
      { onSnapshot: (s) => view.update(s), onNote: (t) => view.note(t) },
    );
    const report = await simulation.run();
    view.finish();
    if (orchestrator) view.note("stopping the in-process orchestrator…");
    await orchestrator?.stop();
    await write(renderReport(report));
    // A stream running twice is the one thing the orchestrator must never allow: fail scripts that run this.
    if (report.violations.length > 0) process.exitCode = 2;
  } finally {
    await orchestrator?.stop();
    stopListening();
  }
}

/** Where the refused credential came from, for a refusal's message. */
function refusalHint(error: unknown): string {
  const refused = (code: status) => code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED;
  if (error instanceof SessionRefusedError && refused(error.code)) {
    return "; the virtual instances send ORCHESTRATOR_TOKEN, which must be an instance token not bound to an id (and, with mutual TLS, ORCHESTRATOR_CERT_FILE must carry their ids)";
  }
  if (error instanceof AdminCallError && refused(error.code)) return "; the admin calls send ORCHESTRATOR_ADMIN_TOKEN, which must be an admin token";
  return "";
}

muteIpServerNameWarning();
main(process.argv.slice(2)).then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    const known =
      error instanceof UsageError ||
      error instanceof TargetError ||
      error instanceof ConfigError ||
      error instanceof SessionRefusedError ||
      error instanceof AdminCallError ||
      (error as Error)?.name === "StartupError";
    const message = known ? (error as Error).message + refusalHint(error) : `unexpected error: ${(error as Error)?.stack ?? String(error)}`;
    process.stderr.write(`simulate: ${message}\n`);
    process.exit(1);
  },
);
