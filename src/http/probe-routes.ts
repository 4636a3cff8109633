import type { ReplicaStatus } from "../leadership/replica-status.js";
import type { About } from "../status/about.js";
import type { HttpReply, HttpRoute } from "./http-server.js";

/** What the probes need to know about the running orchestrator. */
export interface ProbeSources {
  /** Resolves when the database answers; rejects with the reason otherwise. */
  pingDatabase(): Promise<void>;
  /** The grpc.health.v1 status of the server. */
  grpcStatus(): string;
  about: About;
  replica: ReplicaStatus;
}

async function readiness(sources: ProbeSources): Promise<{ ready: boolean; reason?: string; database: string }> {
  const grpc = sources.grpcStatus();
  let database = "ok";
  try {
    await sources.pingDatabase();
  } catch (error) {
    database = `unreachable: ${(error as Error).message}`;
  }
  if (database !== "ok") return { ready: false, reason: `database ${database}`, database };
  // Instances are sent to the leader only: a standby is alive but not ready.
  if (sources.replica.role !== "leader") return { ready: false, reason: `${sources.replica.role}: ${sources.replica.describeLeader()}`, database };
  if (grpc !== "SERVING") return { ready: false, reason: `gRPC is ${grpc}`, database };
  return { ready: true, database };
}

/** `/healthz` (alive), `/readyz` (ready for traffic) and the legacy `/health`. */
export function probeRoutes(sources: ProbeSources): Record<string, HttpRoute> {
  const common = () => ({
    grpc: sources.grpcStatus(),
    role: sources.replica.role,
    term: sources.replica.term,
    leader_address: sources.replica.leaderAddress,
    version: sources.about.version,
    uptime_seconds: Math.round(sources.about.uptimeSeconds()),
  });
  return {
    "/healthz": (): HttpReply => ({ status: 200, body: { status: "alive", ...common() } }),
    "/readyz": async (): Promise<HttpReply> => {
      const r = await readiness(sources);
      return r.ready
        ? { status: 200, body: { status: "ready", database: r.database, ...common() } }
        : { status: 503, body: { status: "not ready", reason: r.reason, database: r.database, ...common() } };
    },
    "/health": async (): Promise<HttpReply> => {
      const r = await readiness(sources);
      return r.ready
        ? { status: 200, body: { status: "healthy", database: r.database, ...common() } }
        : { status: 503, body: { status: "unhealthy", reason: r.reason, database: r.database, ...common() } };
    },
  };
}
