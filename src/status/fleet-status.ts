import type { Coordinator } from "../coordinator/coordinator.js";
import { instanceState, isLive } from "../coordinator/fleet.js";

export { instanceState, type InstanceStateName } from "../coordinator/fleet.js";

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
  role: "leader";
  version: string;
  startedAt: Date;
  uptimeSeconds: number;
}

/** Summarises the coordinator's fleet; O(instances + streams). */
export function fleetStatus(coordinator: Coordinator, version: string, startedAt: Date, now = Date.now()): FleetStatus {
  const instances = { total: 0, connected: 0, disconnected: 0, draining: 0, dead: 0 };
  let totalCapacity = 0;
  let reportedRunning = 0;
  for (const entry of coordinator.fleet.instances.values()) {
    instances.total++;
    const state = instanceState(entry);
    if (state === "left") instances.dead++;
    else instances[state]++;
    if (state === "connected") totalCapacity += entry.capacity;
    if (isLive(entry)) reportedRunning += entry.runningStreams;
  }
  const streams = { total: 0, enabled: 0, assigned: 0, unassigned: 0, revoking: 0 };
  for (const stream of coordinator.fleet.catalog.values()) {
    streams.total++;
    if (!stream.enabled) continue;
    streams.enabled++;
    const ownership = coordinator.fleet.owners.get(stream.id);
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
    frozenUntil: coordinator.freeze?.until != null ? new Date(coordinator.freeze.until) : null,
    movesLastMinute: coordinator.moves.lastMinute(now),
    role: "leader",
    version,
    startedAt,
    uptimeSeconds: Math.floor((now - startedAt.getTime()) / 1000),
  };
}
