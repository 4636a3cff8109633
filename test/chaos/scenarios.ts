/**
 * The chaos suite's scenarios: which faults, on what timings, for how long.
 * Every scenario runs the same fleet (strict clients behind fault proxies and
 * raw sessions) and the same invariant checks.
 */
export type FaultKind =
  | "blackhole"
  | "delay"
  | "reset"
  | "half-reset"
  | "cut"
  | "stall"
  | "kill"
  | "orchestrator-crash"
  | "db-restart"
  | "db-stop"
  | "db-freeze"
  | "leader-kill"
  | "leader-pause"
  | "leader-db-cut";

export interface Scenario {
  name: string;
  /** The orchestrator's own embedded database (DATA_DIR), or a server the run controls (DATABASE_URL). */
  database: "embedded" | "external";
  /** Several orchestrator replicas (LEADER_ELECTION=replicas) instead of one process; needs the external database. */
  replicas?: number;
  /** Orchestrator settings on top of the run's defaults. */
  env: Record<string, string>;
  /** Relative weights of the faults drawn. */
  faults: Partial<Record<FaultKind, number>>;
  /** How long faults are injected, short run and full run. */
  shortMs: number;
  fullMs: number;
}

/** Leases and timeouts short enough for many faults per minute; admin calls bounded at 2 s. */
const FAST = { HEARTBEAT_INTERVAL_MS: "500", LEASE_TTL_MS: "2000", RECONNECT_GRACE_MS: "1000" };
const BOUNDED_DATABASE = { ADMIN_CALL_TIMEOUT_MS: "2000", DB_STATEMENT_TIMEOUT_MS: "2000", DB_QUERY_TIMEOUT_MS: "3000", DB_CONNECT_TIMEOUT_MS: "60000" };

export const SCENARIOS: Scenario[] = [
  {
    name: "network",
    database: "external",
    env: { ...FAST, ...BOUNDED_DATABASE },
    faults: { blackhole: 2, delay: 2, reset: 2, "half-reset": 2, cut: 2, stall: 1, kill: 2 },
    shortMs: 6_000,
    fullMs: 90_000,
  },
  {
    name: "database",
    database: "external",
    env: { ...FAST, ...BOUNDED_DATABASE },
    faults: { "db-restart": 2, "db-stop": 1, "db-freeze": 2, reset: 1, kill: 1 },
    shortMs: 5_000,
    fullMs: 90_000,
  },
  {
    // A lease long enough for instances to be back (with what they hold) before it runs out
    // while the orchestrator restarts, clearing what the killed one left of its embedded server.
    name: "orchestrator",
    database: "embedded",
    env: { HEARTBEAT_INTERVAL_MS: "1000", LEASE_TTL_MS: "8000", RECONNECT_GRACE_MS: "8000", ADMIN_CALL_TIMEOUT_MS: "2000" },
    faults: { "orchestrator-crash": 2, kill: 1, reset: 1 },
    shortMs: 4_000,
    fullMs: 90_000,
  },
  {
    name: "mixed",
    database: "external",
    env: { HEARTBEAT_INTERVAL_MS: "1000", LEASE_TTL_MS: "6000", RECONNECT_GRACE_MS: "6000", ...BOUNDED_DATABASE },
    faults: { blackhole: 2, delay: 1, reset: 2, "half-reset": 1, cut: 2, stall: 1, kill: 2, "orchestrator-crash": 1, "db-restart": 1, "db-freeze": 1, "db-stop": 1 },
    shortMs: 0,
    fullMs: 120_000,
  },
  {
    // Three replicas, faults on the leader (see replica-faults.ts). The instances' lease is long
    // enough to reconnect to a new leader before it runs out; the leader lease short, as takeovers
    // are what is tested, but not so short that a replica starved of CPU (two cores, three replicas,
    // the fleet and PostgreSQL) fails to confirm it while it loads the fleet: at 2 s, on a loaded
    // machine, new leaders lost their leadership before serving, term after term.
    name: "replicas",
    database: "external",
    replicas: 3,
    env: { HEARTBEAT_INTERVAL_MS: "1000", LEASE_TTL_MS: "8000", RECONNECT_GRACE_MS: "8000", LEADER_LEASE_MS: "3000", LOG_LEVEL: "info", ...BOUNDED_DATABASE },
    faults: { "leader-kill": 2, "leader-pause": 2, "leader-db-cut": 2, kill: 1 },
    shortMs: 4_000,
    fullMs: 120_000,
  },
  {
    // The soak (--minutes): every fault but the orchestrator's own crash, so that one process
    // lives through the whole run and its memory over time means something.
    name: "soak",
    database: "external",
    env: { HEARTBEAT_INTERVAL_MS: "1000", LEASE_TTL_MS: "6000", RECONNECT_GRACE_MS: "6000", ...BOUNDED_DATABASE },
    faults: { blackhole: 2, delay: 1, reset: 2, "half-reset": 1, cut: 2, stall: 1, kill: 2, "db-restart": 1, "db-freeze": 1, "db-stop": 1 },
    shortMs: 0,
    fullMs: 0,
  },
];

/** Faults that hit the whole control plane: one at a time, and no new instance faults meanwhile. */
export const EXCLUSIVE: ReadonlySet<FaultKind> = new Set(["orchestrator-crash", "db-restart", "db-stop", "db-freeze", "leader-kill", "leader-pause", "leader-db-cut"]);
