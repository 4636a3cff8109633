import type { Coordinator } from "../coordinator/coordinator.js";
import type { Db } from "../db/database.js";
import type { AdminServiceServer } from "../gen/orchestrator/v1/admin.js";
import type { Logger } from "../log/logger.js";
import type { About } from "../status/about.js";
import { catalogHandlers } from "./admin-catalog.js";
import { fleetHandlers } from "./admin-fleet.js";
import { watchEvents } from "./watch-events.js";

/** The operator API: every AdminService method, wired to the database and the coordinator. */
export function adminService(
  db: Db,
  coordinator: Coordinator,
  logger: Logger,
  about: About,
): AdminServiceServer {
  return {
    ...catalogHandlers(db, coordinator, logger),
    ...fleetHandlers(coordinator, logger, about),
    watchEvents: watchEvents(coordinator.events),
  };
}
