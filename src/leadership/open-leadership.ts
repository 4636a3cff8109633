import { hostname } from "node:os";
import type { Config } from "../config/config.js";
import { systemClock } from "../coordinator/clock.js";
import { LeaderLock } from "../db/leader-lock.js";
import type { Logger } from "../log/logger.js";
import { Leadership } from "./leadership.js";

/** How often a standby tries the lock: a quarter of a second, a small part of a takeover. */
export const CAMPAIGN_EVERY_MS = 250;

/** This process's leadership as configured, on the lock of the database at `url`. */
export function openLeadership(config: Config, url: string, logger: Logger): Leadership {
  const { mode, leaseMs, advertiseAddress } = config.leadership;
  const lock = new LeaderLock({
    url,
    schema: config.dbSchema,
    advertiseAddress,
    holder: `${hostname()} pid ${process.pid}`,
    // A paused or cut-off leader's lock is ended by the database after one leader lease.
    idleSessionTimeoutMs: mode === "replicas" ? leaseMs : 0,
  });
  return new Leadership(lock, systemClock, { mode, leaseMs, leaseTtlMs: config.leaseTtlMs, campaignEveryMs: CAMPAIGN_EVERY_MS, scope: `schema "${config.dbSchema}"` }, logger);
}
