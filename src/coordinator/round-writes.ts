import type { RoundDecision } from "./round-planner.js";
import type { InstanceRecord, RoundWrites, StreamOwner } from "./store-port.js";
import type { AuditEvent } from "./types.js";

/** Collects what a round writes: instance rows, acknowledged releases, the decision and its audit trail. */
export function roundWrites(
  instances: InstanceRecord[],
  released: StreamOwner[],
  decision: RoundDecision,
  pendingEvents: AuditEvent[],
  at: Date,
): RoundWrites {
  const events = [...pendingEvents];
  for (const g of decision.grants) {
    events.push({ kind: "stream.assigned", at, streamId: g.streamId, instanceId: g.instanceId, detail: { reason: g.reason, from: g.from ?? null } });
  }
  for (const r of decision.revocations) {
    events.push({ kind: "stream.revoking", at, streamId: r.streamId, instanceId: r.instanceId, detail: { reason: r.reason, warm: r.warm ?? true } });
  }
  for (const r of decision.releases) {
    events.push({ kind: "stream.unassigned", at, streamId: r.streamId, instanceId: r.instanceId, detail: { reason: "no capacity" } });
  }
  return {
    instances,
    releases: [...released, ...decision.releases],
    grants: decision.grants.map(({ streamId, instanceId }) => ({ streamId, instanceId })),
    revocations: decision.revocations.map(({ streamId, instanceId }) => ({ streamId, instanceId })),
    events,
  };
}
