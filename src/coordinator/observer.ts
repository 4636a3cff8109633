import type { RoundDecision } from "./round-planner.js";

/** Database work of the coordinator that can fail, as counted in finger_database_errors_total. */
export type DatabaseOperation = "round" | "last_seen_flush" | "catalog" | "freeze";

/**
 * Hooks the coordinator calls for things worth counting. Metrics implement
 * it; the coordinator itself stays free of any metrics library.
 */
export interface CoordinatorObserver {
  heartbeat(): void;
  superseded(): void;
  round(decision: RoundDecision, durationSeconds: number): void;
  databaseError(operation: DatabaseOperation): void;
}

/** Observes nothing; the default. */
export const NO_OBSERVER: CoordinatorObserver = {
  heartbeat: () => undefined,
  superseded: () => undefined,
  round: () => undefined,
  databaseError: () => undefined,
};
