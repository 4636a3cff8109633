import type { InstanceWrite, RoundWrites, StreamOwner } from "../db/round-writer.js";
import type { InstanceStatus } from "../db/schema.js";
import { instanceState, type InstanceEntry } from "./fleet.js";
import type { RoundDecision } from "./round-planner.js";
import type { AuditEvent } from "./types.js";

/** The persisted status of an instance: its operator-facing state, where draining is still connected. */
export function statusOf(entry: InstanceEntry): InstanceStatus {
  const state = instanceState(entry);
  return state === "draining" ? "connected" : state;
}

/** Maps an instance entry to the row written for it. */
export function instanceWrite(entry: InstanceEntry, sessionId: string | null): InstanceWrite {
  return {
    id: entry.id,
    capacity: entry.capacity,
    labels: entry.labels,
    version: entry.version,
    status: statusOf(entry),
    draining: entry.draining,
    sessionId,
    connectedAt: entry.connectedAt,
    lastSeenAt: new Date(entry.lastSeen),
  };
}

/** Collects what a round writes: dirty membership, releases, the decision and its audit trail. */
export function roundWrites(
  dirty: InstanceEntry[],
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
    events.push({ kind: "stream.revoking", at, streamId: r.streamId, instanceId: r.instanceId, detail: { reason: r.reason } });
  }
  for (const r of decision.releases) {
    events.push({ kind: "stream.unassigned", at, streamId: r.streamId, instanceId: r.instanceId, detail: { reason: "no capacity" } });
  }
  return {
    instances: dirty.map((e) => instanceWrite(e, e.session?.sessionId ?? null)),
    releases: [...released, ...decision.releases],
    grants: decision.grants.map(({ streamId, instanceId }) => ({ streamId, instanceId })),
    revocations: decision.revocations.map(({ streamId, instanceId }) => ({ streamId, instanceId })),
    events,
  };
}
