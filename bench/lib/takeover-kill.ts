/**
 * One measured takeover: SIGKILL of the leading replica, the survivors' election,
 * the fleet's return to the new leader, the killed replica started again as a
 * standby. "Reconciled" is defined in bench/takeover.ts's header; this file
 * checks it from both sides (the instances' own view, the leader's /status).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { LeaderFollower } from "./leader-follower.js";
import type { LoadFleet } from "./load-fleet.js";
import { getJson, type ReplicaSet, type ReplicaSlot } from "./replica-set.js";
import { summarize } from "./report.js";
import { pollUntil } from "../../test/helpers/wait.js";

export interface TakeoverOutcome {
  killed: number;
  leader: number;
  /** Date.now() of the kill, to match the orchestrator's own timestamps. */
  killedAtWall: number;
  /** From the kill until the new leader's /readyz answered 200. */
  servingMs: number;
  /** From the kill until the last instance was welcomed by the new leader. */
  lastWelcomeMs: number;
  /** From the kill until the reconciled state was first observed (NaN: never, within the timeout). */
  reconciledMs: number;
  /** The killed replica's process start until /healthz 200 (a standby's whole start-up). */
  restartMs: number;
  /** The harness's longest event-loop stall from the kill until reconciled. */
  harnessLagMaxMs: number;
  /** Streams whose owner (by the instances' view) differs from before the kill, or that have none. */
  moved: number;
  /** What was still wrong at the timeout, when not reconciled (both sides). */
  problem?: string;
  /** Streams held before the kill that no instance held at the timeout (the first few). */
  unheld: string[];
  /** From the kill until half the instances were welcomed by the new leader. */
  medianWelcomeMs: number;
}

export interface Context {
  set: ReplicaSet;
  fleet: LoadFleet;
  follower: LeaderFollower;
  streams: number;
  /** Every stream of the catalog. */
  streamIds: string[];
  timeoutMs: number;
  /** Restart the killed replica right after the kill rather than once the fleet is reconciled. */
  restartAtOnce: boolean;
}

/** Who runs each stream, by instance id, from the instances' side. */
function ownersById(fleet: LoadFleet): Map<string, string> {
  const owners = new Map<string, string>();
  for (const [stream, inst] of fleet.owners().owner) owners.set(stream, inst.id);
  return owners;
}

function countMoved(before: Map<string, string>, after: Map<string, string>): number {
  let moved = 0;
  for (const [stream, owner] of before) if (after.get(stream) !== owner) moved++;
  return moved;
}

/** The first thing that keeps the fleet from being reconciled on `leader`, from the instances' side (cheap: memory only). */
function instanceProblem(c: Context, leader: ReplicaSlot, killedAt: number, before: Map<string, string>): string | undefined {
  let notBack = 0;
  for (const inst of c.fleet.instances) {
    if (inst.state !== "ready" || c.follower.addressOf(inst) !== leader.grpcAddress || !(inst.welcomedAt > killedAt)) notBack++;
  }
  if (notBack) return `${notBack} instances not yet welcomed by the new leader`;
  const { owner, duplicates } = c.fleet.owners();
  if (duplicates.length) return `${duplicates.length} streams held by two instances`;
  if (owner.size !== before.size) return `instances hold ${owner.size} streams, ${before.size} before`;
  for (const [stream, id] of before) if (owner.get(stream)?.id !== id) return `stream ${stream} not held by ${id} as before`;
  return undefined;
}

/** The same from the leader's side: every instance connected, every stream assigned and none being revoked. */
async function leaderProblem(c: Context, leader: ReplicaSlot): Promise<string | undefined> {
  const reply = await getJson(leader.httpBase, "/status");
  if (!reply || reply.status !== 200) return "the leader's /status did not answer";
  const instances = reply.body.instances as Record<string, number>;
  const streams = reply.body.streams as Record<string, number>;
  const n = c.fleet.instances.length;
  if (reply.body.role !== "leader") return `/status says role ${String(reply.body.role)}`;
  if (instances.connected !== n || instances.disconnected !== 0) return `/status: ${instances.connected} of ${n} connected, ${instances.disconnected} disconnected`;
  if (streams.revoking !== 0 || streams.unassigned !== 0 || streams.assigned !== c.streams) {
    return `/status: ${streams.assigned} assigned, ${streams.revoking} revoking, ${streams.unassigned} unassigned of ${c.streams}`;
  }
  return undefined;
}

/**
 * Whether the fleet is as a kill needs it: one leader, every instance on it, every
 * stream held by exactly one instance. Returns what is wrong, and the streams held
 * by nobody (the first few).
 */
export async function unsettled(c: Context): Promise<{ problem: string; unheld: string[] } | undefined> {
  const leader = await c.set.leader();
  if (!leader) return { problem: "no single serving leader", unheld: [] };
  const owners = ownersById(c.fleet);
  const problem = instanceProblem(c, leader, -Infinity, owners) ?? (owners.size !== c.streams ? `${owners.size} of ${c.streams} streams held` : undefined);
  if (!problem) return undefined;
  const held = new Set(owners.keys());
  const unheld = c.streamIds.filter((id) => !held.has(id)).slice(0, 5);
  return { problem, unheld };
}

export async function measureTakeover(c: Context): Promise<TakeoverOutcome> {
  const old = await c.set.leader();
  if (!old) throw new Error("no single serving leader before the kill");
  const before = ownersById(c.fleet);
  const settle = await unsettled(c);
  if (settle) throw new Error(`fleet not settled before the kill: ${settle.problem}`);
  const killedAtWall = Date.now();
  const killedAt = performance.now();
  // The harness shares the cores with the replicas: a stalled event loop here delays what it observes.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  await c.set.kill(old);

  const restart = async () => {
    const started = performance.now();
    await c.set.restart(old);
    return performance.now() - started;
  };
  // At once, as a supervisor does; it rarely wins the election (start-up takes seconds, the survivors try every 250 ms).
  const restarting = c.restartAtOnce ? restart() : undefined;

  let leader: ReplicaSlot | undefined;
  await pollUntil(async () => (leader = await c.set.leader()) !== undefined, c.timeoutMs, 10);
  if (!leader) throw new Error(`no replica serving ${c.timeoutMs} ms after the kill`);
  const servingMs = performance.now() - killedAt;

  let problem: string | undefined = "not checked";
  let reconciledMs = Number.NaN;
  const reconciled = await pollUntil(
    async () => {
      problem = instanceProblem(c, leader!, killedAt, before) ?? (await leaderProblem(c, leader!));
      return problem === undefined;
    },
    c.timeoutMs,
    20,
  );
  if (reconciled) reconciledMs = performance.now() - killedAt;
  lag.disable();
  const unheld: string[] = [];
  if (!reconciled) {
    // Both sides' view of what is wrong, for a reproduction.
    problem = [instanceProblem(c, leader, killedAt, before), await leaderProblem(c, leader)].filter(Boolean).join("; ");
    const { owner } = c.fleet.owners();
    for (const stream of before.keys()) if (!owner.has(stream) && unheld.push(stream) >= 5) break;
  }
  const welcomes = summarize(c.fleet.instances.map((inst) => inst.welcomedAt - killedAt));

  const restartMs = await (restarting ?? restart());
  // Standing by again, naming the new leader in its go_away hints, before the next kill.
  await pollUntil(async () => (await c.set.roleOf(old))?.leaderAddress === leader!.grpcAddress, c.timeoutMs, 50);
  return {
    killed: old.index,
    leader: leader.index,
    killedAtWall,
    servingMs,
    lastWelcomeMs: welcomes.max,
    medianWelcomeMs: welcomes.p50,
    reconciledMs,
    restartMs,
    harnessLagMaxMs: lag.max / 1e6,
    moved: countMoved(before, ownersById(c.fleet)),
    problem: reconciled ? undefined : problem,
    unheld,
  };
}
