/**
 * Setup shared by the fleet benchmarks: an orchestrator on a fresh database,
 * and a balanced fleet of load instances on it.
 */
import { randomBytes } from "node:crypto";
import { SimulatorAdmin, simStreamIds } from "../../src/simulator/admin-api.js";
import { LeaderFollower } from "./leader-follower.js";
import { Channels, type LoadInstance } from "./load-instance.js";
import { LoadFleet } from "./load-fleet.js";
import type { BenchPostgres } from "./postgres.js";
import { startOrchestrator, type OrchestratorChild, type OrchestratorEnv } from "./process.js";
import { pollUntil, sleep } from "../../test/helpers/wait.js";

let databases = 0;
// Runs sharing one server (--database-url) must not pick the same names.
const run = randomBytes(3).toString("hex");

/** A new empty database for one scenario (`database`: its name, `databaseUrl`: how the orchestrator connects). */
export async function freshDatabase(pg: BenchPostgres, label: string): Promise<{ database: string; databaseUrl: string }> {
  const database = `bench_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${run}_${++databases}`;
  return { database, databaseUrl: await pg.createDatabase(database) };
}

/** An orchestrator child process on a database of its own. */
export async function orchestratorOnFreshDatabase(
  pg: BenchPostgres,
  label: string,
  env: OrchestratorEnv,
): Promise<OrchestratorChild & { database: string; databaseUrl: string }> {
  const fresh = await freshDatabase(pg, label);
  return Object.assign(await startOrchestrator(fresh.databaseUrl, env), fresh);
}

/** Each instance's capacity when the flag says 0 (automatic): twice its fair share, at least 10. */
export function autoCapacity(streams: number, instances: number, flag: number): number {
  return flag > 0 ? flag : Math.max(10, Math.ceil((2 * streams) / Math.max(1, instances)));
}

export interface BalancedFleetOptions {
  /** Where the instances connect first, and the admin calls go (the leader). */
  address: string;
  /**
   * Every replica's address: each instance then has a channel of its own and
   * goes back to whichever replica leads when its session ends (bench/lib/leader-follower.ts).
   */
  replicas?: readonly string[];
  instances: number;
  capacity: number;
  streams: number;
  /** Sessions per channel; 1 gives every instance its own TCP connection. */
  perChannel: number;
  /** Hellos in flight while connecting (see LoadFleet.connectAll). */
  batch: number;
  heartbeatMs: number;
  /** Instances that must have a channel of their own whatever perChannel says. */
  dedicated?: (index: number) => boolean;
  idPrefix?: string;
  log?: (line: string) => void;
}

export interface BalancedFleet {
  fleet: LoadFleet;
  /** The simulator's admin calls: batched catalog writes, as a load generator needs. */
  admin: SimulatorAdmin;
  streamIds: string[];
  members: LoadInstance[];
  connectMs: number;
  placeMs: number;
}

/**
 * Connects the instances first, then creates the streams (new streams are
 * placed at once, unlike moves between live instances, which are
 * rate-limited), and waits until every stream is acknowledged with each
 * instance within one of the others.
 */
export async function balancedFleet(o: BalancedFleetOptions): Promise<BalancedFleet> {
  const log = o.log ?? ((line: string) => console.log(line));
  const channels = new Channels(o.address, o.replicas ? 1 : o.perChannel);
  const follower = o.replicas && new LeaderFollower(channels, o.replicas, { heartbeatMs: o.heartbeatMs });
  const fleet = new LoadFleet(channels, follower);
  const members: LoadInstance[] = [];
  for (let i = 0; i < o.instances; i++) {
    members.push(fleet.add(`${o.idPrefix ?? "vi"}-${String(i).padStart(5, "0")}`, o.capacity, o.dedicated?.(i) ?? false));
  }
  // A follower starts the heartbeats after each welcome itself.
  const ramp = await fleet.connectAll(members, o.batch, follower ? undefined : (m) => m.heartbeatEvery(o.heartbeatMs));
  log(`setup: ${o.instances.toLocaleString("en-US")} instances connected in ${(ramp.ms / 1000).toFixed(1)} s (${ramp.perSecond.toFixed(0)}/s, ${fleet.channels.all.length.toLocaleString("en-US")} channels)`);

  const admin = new SimulatorAdmin(o.address);
  const placeStart = performance.now();
  const streamIds = simStreamIds(o.streams, "st");
  await admin.upsertStreams(streamIds);
  const placed = await pollUntil(() => fleet.balance(members).total >= o.streams, 120_000, 20);
  const b = fleet.balance(members);
  if (!placed) throw new Error(`only ${b.total} of ${o.streams} streams placed after 120 s`);
  await fleet.quiet(300, 30_000);
  const placeMs = performance.now() - placeStart;
  const { duplicates } = fleet.owners();
  if (duplicates.length) throw new Error(`streams held by two instances after setup: ${duplicates.slice(0, 5).join(", ")}`);
  const after = fleet.balance(members);
  log(
    `setup: ${o.streams.toLocaleString("en-US")} streams created and acknowledged in ${(placeMs / 1000).toFixed(1)} s; per instance ${after.min}..${after.max} (capacity ${o.capacity})`,
  );
  if (after.max - after.min > 1) log(`setup: WARNING fleet not balanced within one (${after.min}..${after.max})`);
  await sleep(200);
  return { fleet, admin, streamIds, members, connectMs: ramp.ms, placeMs };
}
