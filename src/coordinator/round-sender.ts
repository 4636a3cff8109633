import { AssignmentChanges } from "./assignment-changes.js";
import type { Fleet } from "./fleet.js";
import type { RoundDecision } from "./round-planner.js";
import type { Audit, GrantedStream } from "./types.js";

/**
 * Applies a persisted round to memory and tells the instances: one
 * assignment message per instance with its grants (fresh epochs) and
 * revocations. An instance that is not connected right now learns it all
 * from the full set it gets on reconnect. One that came back with a smaller
 * capacity while the round was being written is not sent more than it can
 * run: the grants beyond it are revoked at once, unstarted.
 */
export function applyRound(fleet: Fleet, decision: RoundDecision, epochs: Map<string, number>, audit: Audit, at: Date, now: number): void {
  const changes = new AssignmentChanges();
  for (const r of decision.releases) {
    if (fleet.owners.get(r.streamId)?.instanceId === r.instanceId) fleet.clearOwner(r.streamId);
  }
  for (const g of decision.grants) {
    const epoch = epochs.get(g.streamId);
    const stream = fleet.catalog.get(g.streamId);
    // No epoch, or no longer enabled: deleted or disabled while the round was being written.
    if (epoch === undefined || !stream?.enabled) continue;
    fleet.setOwner(g.streamId, { instanceId: g.instanceId, epoch, revoking: false, grantedAt: now });
    changes.for(g.instanceId).add.push({ ...stream, epoch });
  }
  for (const r of decision.revocations) {
    if (fleet.owners.get(r.streamId)?.instanceId !== r.instanceId) continue;
    fleet.markRevoking(r.streamId, r.reason);
    changes.for(r.instanceId).remove.push(r.streamId);
  }
  for (const [instanceId, change] of changes.entries()) {
    const instance = fleet.instance(instanceId);
    if (!instance?.reachable) continue;
    const excess = overCapacity(fleet, instanceId, instance.capacity, change.add);
    shedOverCapacity(fleet, audit, instanceId, excess, at);
    instance.outbox!.assign({ full: false, add: change.add, remove: change.remove }, [...change.remove, ...excess]);
  }
}

/** Takes out of `add` the grants that would put the instance over `capacity`; returns their ids. */
function overCapacity(fleet: Fleet, instanceId: string, capacity: number, add: GrantedStream[]): string[] {
  // Cheap test first: rounds never plan past capacity, so this holds but for the race with a hello.
  if (fleet.ownedBy(instanceId).size <= capacity) return [];
  const room = Math.max(0, capacity - (fleet.activeStreamsOf(instanceId).length - add.length));
  return add.splice(room).map((s) => s.id);
}

/**
 * Streams an instance owns beyond the capacity it announced: marked as being
 * revoked, so no round counts them as its own, and freed (for others) when it
 * acknowledges the message that leaves them out or removes them.
 */
export function shedOverCapacity(fleet: Fleet, audit: Audit, instanceId: string, streamIds: string[], at: Date): void {
  for (const streamId of streamIds) {
    fleet.markRevoking(streamId, "capacity");
    audit({ kind: "stream.revoking", instanceId, streamId, detail: { reason: "capacity" }, at });
  }
}

/**
 * Streams a hello withheld because the round being written was giving them
 * away: those still the instance's afterwards (the round failed, or the
 * grant was dropped) must run there after all, within the capacity its hello
 * announced; what does not fit is revoked in the same message.
 */
export function returnWithheld(fleet: Fleet, withheld: Map<string, Set<string>>, audit: Audit, at: Date): void {
  for (const [instanceId, streamIds] of withheld) {
    const instance = fleet.instance(instanceId);
    const back: GrantedStream[] = [];
    for (const id of streamIds) {
      const ownership = fleet.owners.get(id);
      const stream = fleet.catalog.get(id);
      if (ownership?.instanceId === instanceId && !ownership.revoking && stream?.enabled) back.push({ ...stream, epoch: ownership.epoch });
    }
    if (!back.length || !instance?.outbox) continue;
    // What it runs already counts against its capacity.
    const running = fleet.activeStreamsOf(instanceId).length - back.length;
    const add = back.splice(0, Math.max(0, instance.capacity - running));
    const remove = back.map((s) => s.id);
    shedOverCapacity(fleet, audit, instanceId, remove, at);
    instance.outbox.revoke({ add, remove });
  }
}
