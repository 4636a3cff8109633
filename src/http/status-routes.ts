import type { Coordinator } from "../coordinator/coordinator.js";
import type { OrchestratorMetrics } from "../metrics/metrics.js";
import type { ReplicaStatus } from "../leadership/replica-status.js";
import type { About } from "../status/about.js";
import { fleetStatus, reportedState } from "../status/fleet-status.js";
import type { HttpReply, HttpRoute } from "./http-server.js";

const iso = (at: Date | null) => at?.toISOString() ?? null;

/**
 * `/status`, `/instances` and `/metrics`. The JSON keeps the field names the
 * users' scripts know from the legacy orchestrator (instances.active,
 * total_capacity, current_load, streams.available, server_id, max_streams,
 * current_streams, last_heartbeat...) next to the richer ones.
 */
export function statusRoutes(
  leading: () => Coordinator | undefined,
  metrics: OrchestratorMetrics,
  about: About,
  replica: ReplicaStatus,
): Record<string, HttpRoute> {
  return {
    "/status": (): HttpReply => {
      const s = fleetStatus(leading(), about, replica);
      const currentLoad = s.streams.assigned + s.streams.revoking;
      return {
        status: 200,
        body: {
          instances: {
            total: s.instances.total,
            active: s.instances.connected + s.instances.draining,
            total_capacity: s.totalCapacity,
            current_load: currentLoad,
            connected: s.instances.connected,
            disconnected: s.instances.disconnected,
            draining: s.instances.draining,
            dead: s.instances.dead,
          },
          streams: {
            total: s.streams.total,
            enabled: s.streams.enabled,
            assigned: currentLoad,
            revoking: s.streams.revoking,
            available: s.streams.unassigned,
            unassigned: s.streams.unassigned,
          },
          load_percentage: s.loadPercentage,
          rebalancing_frozen: s.frozen,
          frozen_until: s.frozenUntil?.toISOString() ?? null,
          moves_last_minute: s.movesLastMinute,
          role: s.role,
          term: s.term,
          leader_address: s.leaderAddress,
          version: s.version,
          started_at: s.startedAt.toISOString(),
          uptime_seconds: s.uptimeSeconds,
          timestamp: new Date().toISOString(),
        },
      };
    },
    "/instances": (): HttpReply => {
      const coordinator = leading();
      // Only the leader knows the fleet; a standby names it.
      if (!coordinator) return { status: 503, body: { error: `this replica is ${replica.role}; ${replica.describeLeader()}`, role: replica.role, leader_address: replica.leaderAddress } };
      const cutoff = coordinator.suspectCutoff();
      const instances = coordinator.view.instancesById().map((e) => {
        const state = reportedState(e);
        return {
          server_id: e.id,
          max_streams: e.capacity,
          current_streams: coordinator.view.ownedBy(e.id).size,
          status: state === "connected" || state === "draining" ? "active" : "inactive",
          registered_at: iso(e.registeredAt),
          last_heartbeat: coordinator.wallTimeOf(e.lastSeen).toISOString(),
          state,
          fair_share: coordinator.quotas.get(e.id) ?? 0,
          running_streams: e.runningStreams,
          draining: e.draining,
          suspect: e.isSuspect(cutoff),
          labels: e.labels,
          version: e.version,
          metrics: e.metrics,
        };
      });
      return { status: 200, body: { instances, total: instances.length } };
    },
    "/metrics": async (): Promise<HttpReply> => ({
      status: 200,
      body: await metrics.registry.metrics(),
      contentType: metrics.registry.contentType,
    }),
  };
}
