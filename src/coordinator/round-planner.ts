import { preferYoungest } from "../scheduler/prefer-youngest.js";
import { plan } from "../scheduler/plan.js";
import { byId, type Fleet } from "./fleet.js";
import type { Instance } from "./instance.js";

const PINNED = -2;
const ORPHANED = -1;

/** Why a stream changes hands, as recorded in events and metrics. */
export type MoveReason = "new" | "orphan" | "rebalance" | "drain" | "capacity";

/** What a round decided, before anything is written or sent. */
export interface RoundDecision {
  grants: Array<{ streamId: string; instanceId: string; reason: MoveReason; from?: string }>;
  /** `warm`: it had run past the warm-up (WARM_UP_MS), so its move costs a whole identification window (set by the round runner). */
  revocations: Array<{ streamId: string; instanceId: string; reason: MoveReason; warm?: boolean }>;
  /** Orphans that found no free slot: their rows go, they stay unassigned. */
  releases: Array<{ streamId: string; instanceId: string }>;
  liveMoves: number;
  deferred: number;
  unassigned: number;
  /** Each connected instance's capacity-weighted fair share this round. */
  quotas: Map<string, number>;
  /** Connected instances left out because nothing was heard from them since `heardSince`. */
  suspects: string[];
}

const NONE: ReadonlySet<number> = new Set();

/**
 * Turns the fleet into scheduler input, runs the pure scheduler and reads its
 * answer back into ids. Reads the fleet and changes nothing in it (it may give
 * an instance its index slot, which is bookkeeping, not state).
 *
 * Only connected instances heard from since `heardSince` take part. Streams of
 * instances that are live but unreachable (in reconnect grace, not back yet
 * after an orchestrator restart, or suspect: connected but silent) are left out
 * entirely: they keep running where they are, and nobody else may get them
 * until that instance is back or declared dead. Leaving suspects out is what
 * keeps orphans from being handed to an instance that died silently but whose
 * lease has not run out yet (the stream would wait for that lease too).
 * Streams being revoked, whoever owns them, take part as free streams whose
 * grant waits for their owner's acknowledgement: shares stay what they were
 * when the revocation was decided, so a member that goes quiet in the middle
 * of a join does not make the others give up more than the newcomer needs.
 * Unowned streams in `heldBack` (a settle window's backlog) are left out too.
 */
export function planRound(fleet: Fleet, maxLiveMoves: number, heardSince = Number.NEGATIVE_INFINITY, heldBack: ReadonlySet<number> = NONE): RoundDecision {
  const { index } = fleet;
  const members: Instance[] = [];
  const others: Instance[] = [];
  for (const instance of fleet.instances()) (instance.reachable && !instance.isSuspect(heardSince) ? members : others).push(instance);
  // Members in id order (the scheduler's instance order); the rest need no order.
  members.sort(byId);
  const memberSlots = members.map((entry) => index.instanceSlot(entry.id));
  const otherSlots = others.map((entry) => index.instanceSlot(entry.id));
  // Per instance slot: its member index, PINNED when it is live but unreachable (or
  // suspect), ORPHANED when it owns nothing any more (also slots of unknown instances).
  const code = new Int32Array(index.instanceSlotCount).fill(ORPHANED);
  memberSlots.forEach((slot, i) => (code[slot] = i));
  others.forEach((entry, k) => (code[otherSlots[k]!] = entry.live ? PINNED : ORPHANED));
  const suspects = others.filter((entry) => entry.isSuspect(heardSince)).map((entry) => entry.id).sort();
  const capacity = Uint32Array.from(members, (m) => m.capacity);
  const eligible = Uint8Array.from(members, (m) => (m.draining ? 0 : 1));
  const live = new Uint8Array(members.length).fill(1);

  // Typed arrays only, no string lookups: the scheduler's stream k is stream slot slotOf[k].
  const end = index.streamSlotEnd;
  const { enabled, owner: ownerSlot, revoking } = index;
  const slotOf = new Int32Array(end);
  const owners = new Int32Array(end);
  const orphans: number[] = [];
  // Being revoked: counted as free streams, so every share is computed over all
  // streams (otherwise a round between two acknowledgements sees fewer streams and
  // revokes more than needed), but not granted before the owner acknowledges.
  const inFlight: number[] = [];
  let count = 0;
  for (let slot = 0; slot < end; slot++) {
    if (enabled[slot] === 0) continue;
    const o = ownerSlot[slot]!;
    // The settle window's backlog: no owner, and left out until arrivals pause (placement-settle.ts).
    if (o < 0 && heldBack.has(slot)) continue;
    let owner = -1;
    if (o >= 0) {
      const c = code[o]!;
      const beingRevoked = revoking[slot] !== 0;
      if (c === PINNED && !beingRevoked) continue;
      if (c !== ORPHANED && beingRevoked) inFlight.push(count);
      else if (c >= 0) owner = c;
      else orphans.push(count);
    }
    slotOf[count] = slot;
    owners[count++] = owner;
  }
  const streamId = (k: number) => index.streamIds[slotOf[k]!]!;
  const previous = (k: number) => {
    const o = ownerSlot[slotOf[k]!]!;
    return o >= 0 ? index.instanceIds[o] : undefined;
  };

  const owned = owners.subarray(0, count);
  const result = plan({ capacity, eligible, live, owner: owned, maxLiveMoves });
  // Of an owner's streams, those it gives up are the youngest (prefer-youngest.ts).
  const changed = preferYoungest(owned, result.target, (k) => index.epoch[slotOf[k]!]!, result.changed);
  const decision: RoundDecision = {
    grants: [],
    revocations: [],
    releases: [],
    liveMoves: result.stats.liveMoves,
    deferred: result.stats.deferred,
    unassigned: result.stats.unassigned,
    quotas: new Map(members.map((m, i) => [m.id, result.quota[i]!])),
    suspects,
  };
  const waiting = new Set(inFlight);
  for (const s of changed) {
    if (waiting.has(s)) continue;
    const from = owners[s]!;
    const to = result.target[s]!;
    if (from >= 0) {
      const owner = members[from]!;
      const reason: MoveReason = owner.draining ? "drain" : to < 0 || owner.capacity < fleet.ownedBy(owner.id).size ? "capacity" : "rebalance";
      decision.revocations.push({ streamId: streamId(s), instanceId: owner.id, reason });
    } else if (to >= 0) {
      const id = streamId(s);
      const before = previous(s);
      // A stream its live owner gave up keeps the reason it was taken for (rebalance, drain, capacity).
      const target = members[to]!.id;
      const handoff = before ? undefined : fleet.handoffOf(id);
      // Given back to the instance that gave it up (drained, then undrained): no move to report.
      const moved = handoff?.from !== target ? handoff : undefined;
      const reason: MoveReason = moved?.reason ?? (before ? "orphan" : "new");
      decision.grants.push({ streamId: id, instanceId: target, reason, from: before ?? moved?.from });
    }
  }
  // Orphans that found no slot are unchanged to the scheduler (-1 in, -1 out), but
  // their dead owner must lose them: a later grant, even back to it, takes a new epoch.
  for (const s of orphans) {
    if (result.target[s] === -1) decision.releases.push({ streamId: streamId(s), instanceId: previous(s)! });
  }
  return decision;
}
