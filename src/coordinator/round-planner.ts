import { plan } from "../scheduler/plan.js";
import { isLive, type Fleet } from "./fleet.js";

/** Why a stream changes hands, as recorded in events and metrics. */
export type MoveReason = "new" | "orphan" | "rebalance" | "drain" | "capacity";

/** What a round decided, before anything is written or sent. */
export interface RoundDecision {
  grants: Array<{ streamId: string; instanceId: string; reason: MoveReason; from?: string }>;
  revocations: Array<{ streamId: string; instanceId: string; reason: MoveReason }>;
  /** Orphans that found no free slot: their rows go, they stay unassigned. */
  releases: Array<{ streamId: string; instanceId: string }>;
  liveMoves: number;
  deferred: number;
  unassigned: number;
  /** Each connected instance's capacity-weighted fair share this round. */
  quotas: Map<string, number>;
}

/**
 * Turns the fleet into scheduler input, runs the pure scheduler and reads its
 * answer back into ids. Pure as well: the fleet is only read.
 *
 * Only connected instances take part. Streams of instances that are live but
 * unreachable (in reconnect grace, or not back yet after an orchestrator
 * restart) are left out entirely: they keep running where they are, and
 * nobody else may get them until that instance is back or declared dead.
 * Streams being revoked wait for their owner's acknowledgement the same way.
 */
export function planRound(fleet: Fleet, maxLiveMoves: number): RoundDecision {
  const members = [...fleet.instances.values()]
    .filter((i) => i.liveness === "connected" && i.session)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const index = new Map(members.map((m, i) => [m.id, i]));
  const capacity = Uint32Array.from(members, (m) => m.capacity);
  const eligible = Uint8Array.from(members, (m) => (m.draining ? 0 : 1));
  const live = new Uint8Array(members.length).fill(1);

  const streamIds: string[] = [];
  const previous: Array<string | undefined> = [];
  const owners: number[] = [];
  for (const stream of fleet.catalog.values()) {
    if (!stream.enabled) continue;
    const ownership = fleet.owners.get(stream.id);
    const holder = ownership ? fleet.instances.get(ownership.instanceId) : undefined;
    const holderLive = holder !== undefined && isLive(holder);
    if (holderLive && (ownership!.revoking || !index.has(holder.id))) continue;
    streamIds.push(stream.id);
    previous.push(ownership?.instanceId);
    owners.push(holderLive ? index.get(holder.id)! : -1);
  }

  const result = plan({ capacity, eligible, live, owner: Int32Array.from(owners), maxLiveMoves });
  const decision: RoundDecision = {
    grants: [],
    revocations: [],
    releases: [],
    liveMoves: result.stats.liveMoves,
    deferred: result.stats.deferred,
    unassigned: result.stats.unassigned,
    quotas: new Map(members.map((m, i) => [m.id, result.quota[i]!])),
  };
  for (const s of result.changed) {
    const streamId = streamIds[s]!;
    const from = owners[s]!;
    const to = result.target[s]!;
    const before = previous[s];
    if (from >= 0) {
      const owner = members[from]!;
      const reason: MoveReason = owner.draining ? "drain" : to < 0 || owner.capacity < fleet.ownedBy(owner.id).size ? "capacity" : "rebalance";
      decision.revocations.push({ streamId, instanceId: owner.id, reason });
    } else if (to >= 0) {
      decision.grants.push({ streamId, instanceId: members[to]!.id, reason: before ? "orphan" : "new", from: before });
    } else if (before) {
      decision.releases.push({ streamId, instanceId: before });
    }
  }
  return decision;
}
