import type { Coordinator } from "../coordinator/coordinator.js";
import type { LoggedEvent } from "../coordinator/event-log.js";
import type { InstanceView } from "../coordinator/instance.js";
import type { CatalogStream, Ownership } from "../coordinator/types.js";
import type { EventRow } from "../db/schema.js";
import {
  InstanceState,
  StreamState,
  type Event,
  type GetStatusResponse,
  type InstanceInfo,
  type StreamInfo,
} from "../gen/orchestrator/v1/admin.js";
import { reportedState, type FleetStatus, type ReportedState } from "../status/fleet-status.js";
import { metricsToMessage } from "./metrics-mapping.js";

const STATE: Record<ReportedState, InstanceState> = {
  connected: InstanceState.INSTANCE_STATE_CONNECTED,
  disconnected: InstanceState.INSTANCE_STATE_DISCONNECTED,
  draining: InstanceState.INSTANCE_STATE_DRAINING,
  dead: InstanceState.INSTANCE_STATE_DEAD,
  left: InstanceState.INSTANCE_STATE_LEFT,
};

/** Maps an in-memory instance to the admin API's InstanceInfo. */
export function instanceInfo(entry: InstanceView, coordinator: Coordinator, suspectCutoff = coordinator.suspectCutoff()): InstanceInfo {
  return {
    id: entry.id,
    state: STATE[reportedState(entry)],
    capacity: entry.capacity,
    assigned: coordinator.view.ownedBy(entry.id).size,
    fairShare: coordinator.quotas.get(entry.id) ?? 0,
    runningStreams: entry.runningStreams,
    lastSeen: coordinator.wallTimeOf(entry.lastSeen),
    registeredAt: entry.registeredAt ?? undefined,
    connectedAt: entry.connectedAt ?? undefined,
    labels: entry.labels,
    metrics: metricsToMessage(entry.metrics),
    version: entry.version,
    sessionId: entry.sessionId ?? "",
    draining: entry.draining,
    suspect: entry.isSuspect(suspectCutoff),
  };
}

/** Maps a catalog stream and its ownership (the leader's memory, or a standby's snapshot of the tables) to StreamInfo. */
export function streamInfo(stream: CatalogStream, owners: ReadonlyMap<string, Ownership>): StreamInfo {
  const ownership = owners.get(stream.id);
  const state = !stream.enabled
    ? StreamState.STREAM_STATE_DISABLED
    : !ownership
      ? StreamState.STREAM_STATE_UNASSIGNED
      : ownership.revoking
        ? StreamState.STREAM_STATE_REVOKING
        : StreamState.STREAM_STATE_ASSIGNED;
  return {
    id: stream.id,
    url: stream.url,
    name: stream.name,
    metadata: stream.metadata,
    enabled: stream.enabled,
    state,
    owner: ownership?.instanceId ?? "",
    epoch: ownership?.epoch ?? 0,
  };
}

/** Maps a live event to the Event message. */
export function eventFromLog(event: LoggedEvent): Event {
  return {
    seq: event.seq,
    at: event.at,
    kind: event.kind,
    instanceId: event.instanceId ?? "",
    streamId: event.streamId ?? "",
    detail: event.detail ?? {},
  };
}

/** Maps an audit row read from the database to the Event message. */
export function eventFromRow(row: EventRow): Event {
  return { seq: 0, at: row.at, kind: row.kind, instanceId: row.instance_id ?? "", streamId: row.stream_id ?? "", detail: row.detail };
}

/** Maps the fleet summary to GetStatusResponse. */
export function statusToMessage(status: FleetStatus): GetStatusResponse {
  return {
    instances: status.instances,
    totalCapacity: status.totalCapacity,
    streams: status.streams,
    loadPercentage: status.loadPercentage,
    rebalancingFrozen: status.frozen,
    frozenUntil: status.frozenUntil ?? undefined,
    movesLastMinute: status.movesLastMinute,
    role: status.role,
    term: status.term,
    leaderAddress: status.leaderAddress,
    version: status.version,
    uptimeSeconds: status.uptimeSeconds,
    startedAt: status.startedAt,
  };
}
