import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import type { Server } from "@grpc/grpc-js";

/** Services whose health is reported; "" is the server as a whole. */
export const HEALTH_SERVICES = ["", "orchestrator.v1.OrchestratorService", "orchestrator.v1.AdminService"] as const;

/**
 * grpc.health.v1 status of the whole server. Starts NOT_SERVING; the
 * orchestrator flips it once migrations ran and the port is bound, and back
 * when shutdown begins.
 */
export class HealthState {
  private readonly impl = new HealthImplementation(
    Object.fromEntries(HEALTH_SERVICES.map((s) => [s, "NOT_SERVING" as ServingStatus])),
  );
  private current: ServingStatus = "NOT_SERVING";

  /** The status last set for every service. */
  get status(): ServingStatus {
    return this.current;
  }

  set(status: ServingStatus): void {
    this.current = status;
    for (const service of HEALTH_SERVICES) this.impl.setStatus(service, status);
  }

  addToServer(server: Server): void {
    this.impl.addToServer(server);
  }
}
