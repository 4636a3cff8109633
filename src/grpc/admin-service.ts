import type { Coordinator } from "../coordinator/coordinator.js";
import type { Db } from "../db/database.js";
import { AdminServiceService, type AdminServiceServer } from "../gen/orchestrator/v1/admin.js";
import type { ReplicaView } from "../leadership/replica-status.js";
import type { Logger } from "../log/logger.js";
import type { About } from "../status/about.js";
import { catalogHandlers } from "./admin-catalog.js";
import { fleetHandlers } from "./admin-fleet.js";
import { withCallDeadlines } from "./call-deadline.js";
import { WATCH_LIMITS, watchEvents } from "./watch-events.js";

/**
 * The operator API: every AdminService method, wired to the database and the
 * coordinator; each unary call ends within `callTimeoutMs`.
 */
export function adminService(
  db: Db,
  coordinator: Coordinator,
  logger: Logger,
  about: About,
  callTimeoutMs: number,
  replica: ReplicaView,
  maxWatchers = WATCH_LIMITS.maxWatchers,
): AdminServiceServer {
  const service: AdminServiceServer = {
    ...catalogHandlers(db, coordinator, logger),
    ...fleetHandlers(coordinator, logger, about, replica),
    watchEvents: watchEvents(coordinator.events, { ...WATCH_LIMITS, maxWatchers }),
  };
  return withCallDeadlines(AdminServiceService, service, callTimeoutMs, logger);
}
