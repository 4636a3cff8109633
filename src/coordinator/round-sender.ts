import type { Fleet } from "./fleet.js";
import type { RoundDecision } from "./round-planner.js";
import { AssignmentChanges } from "./assignment-changes.js";

/**
 * Applies a persisted round to memory and tells the instances: one
 * assignment message per instance with its grants (fresh epochs) and
 * revocations. An instance that is not connected right now learns it all
 * from the full set it gets on reconnect.
 */
export function sendRoundChanges(fleet: Fleet, decision: RoundDecision, epochs: Map<string, number>): void {
  const changes = new AssignmentChanges();
  for (const r of decision.releases) {
    if (fleet.owners.get(r.streamId)?.instanceId === r.instanceId) fleet.clearOwner(r.streamId);
  }
  for (const g of decision.grants) {
    const epoch = epochs.get(g.streamId);
    const stream = fleet.catalog.get(g.streamId);
    // No epoch, or no longer enabled: deleted or disabled while the round was being written.
    if (epoch === undefined || !stream?.enabled) continue;
    fleet.setOwner(g.streamId, { instanceId: g.instanceId, epoch, revoking: false });
    changes.for(g.instanceId).add.push({ ...stream, epoch });
  }
  for (const r of decision.revocations) {
    const ownership = fleet.owners.get(r.streamId);
    if (ownership?.instanceId !== r.instanceId) continue;
    fleet.markRevoking(r.streamId);
    changes.for(r.instanceId).remove.push(r.streamId);
  }
  for (const [instanceId, change] of changes.entries()) {
    const entry = fleet.instances.get(instanceId);
    if (!entry?.session || entry.liveness !== "connected") continue;
    const seq = entry.session.sendAssignment({ full: false, add: change.add, remove: change.remove });
    if (change.remove.length) entry.awaiting.set(seq, change.remove);
  }
}
