import type { Coordinator } from "../coordinator/coordinator.js";
import type { InstanceView } from "../coordinator/instance.js";
import type { Role } from "../leadership/leadership.js";
import type { ReplicaView } from "../leadership/replica-status.js";
import type { About } from "./about.js";

/** How operators see an instance: its state, with draining shown in place of connected (the proto's InstanceState). */
export type ReportedState = "connected" | "disconnected" | "draining" | "dead" | "left";

/** The state reported for an instance by the admin API and the HTTP shim. */
export function reportedState(instance: InstanceView): ReportedState {
  return instance.state === "connected" && instance.draining ? "draining" : instance.state;
}

/** Everything GetStatus and GET /status report, computed from memory. */
export interface FleetStatus {
  instances: { total: number; connected: number; disconnected: number; draining: number; dead: number };
  totalCapacity: number;
  /** Streams the connected instances report running, from heartbeats. */
  reportedRunning: number;
  streams: { total: number; enabled: number; assigned: number; unassigned: number; revoking: number };
  loadPercentage: number;
  frozen: boolean;
  frozenUntil: Date | null;
  movesLastMinute: number;
  role: Role;
  term: number;
  leaderAddress: string;
  version: string;
  startedAt: Date;
  uptimeSeconds: number;
}

/** Summarises the coordinator's fleet; O(instances + streams). */
export function fleetStatus(coordinator: Coordinator | undefined, about: About, replica: ReplicaView): FleetStatus {
  const replicaFields = { role: replica.role, term: replica.term, leaderAddress: replica.leaderAddress, version: about.version, startedAt: about.startedAt, uptimeSeconds: Math.floor(about.uptimeSeconds()) };
  const instances = { total: 0, connected: 0, disconnected: 0, draining: 0, dead: 0 };
  const streams = { total: 0, enabled: 0, assigned: 0, unassigned: 0, revoking: 0 };
  // A standby holds no fleet: it reports who it is and who leads.
  if (!coordinator) return { instances, totalCapacity: 0, reportedRunning: 0, streams, loadPercentage: 0, frozen: false, frozenUntil: null, movesLastMinute: 0, ...replicaFields };
  const { view } = coordinator;
  let totalCapacity = 0;
  let reportedRunning = 0;
  for (const entry of view.instances()) {
    instances.total++;
    const state = reportedState(entry);
    if (state === "left") instances.dead++;
    else instances[state]++;
    if (state === "connected") totalCapacity += entry.capacity;
    if (entry.live) reportedRunning += entry.runningStreams;
  }
  for (const stream of view.catalog.values()) {
    streams.total++;
    if (!stream.enabled) continue;
    streams.enabled++;
    const ownership = view.owners.get(stream.id);
    if (!ownership) streams.unassigned++;
    else if (ownership.revoking) streams.revoking++;
    else streams.assigned++;
  }
  const assignedLoad = streams.assigned + streams.revoking;
  return {
    instances,
    totalCapacity,
    reportedRunning,
    streams,
    loadPercentage: totalCapacity ? Math.round((assignedLoad / totalCapacity) * 10_000) / 100 : 0,
    frozen: coordinator.freeze !== undefined,
    frozenUntil: coordinator.freeze?.until ?? null,
    movesLastMinute: coordinator.movesLastMinute(),
    ...replicaFields,
  };
}
