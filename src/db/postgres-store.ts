import type {
  CatalogStream,
  CoordinatorStore,
  FleetSnapshot,
  FreezeRecord,
  InstanceMetrics,
  InstanceRecord,
  InstanceState,
  RoundWrites,
  SeenWrite,
} from "../coordinator/store-port.js";
import type { Db } from "./database.js";
import { flushLastSeen, loadFleet, loadStreams } from "./fleet-repository.js";
import { writeRound } from "./round-repository.js";
import type { InstanceRow } from "./schema.js";
import { clearFreeze, loadFreeze, loadRestartLease, saveFreeze, saveRestartLease } from "./settings-repository.js";

/** The table's status column holds the coordinator's instance state as it is. */
function recordOf(row: InstanceRow): InstanceRecord {
  return {
    id: row.id,
    capacity: row.capacity,
    labels: row.labels,
    version: row.version,
    state: row.status satisfies InstanceState,
    draining: row.draining,
    sessionId: row.session_id,
    registeredAt: row.registered_at,
    connectedAt: row.connected_at,
    lastSeenAt: row.last_seen_at,
    returnBy: row.return_by,
    metrics: (row.metrics as InstanceMetrics | null) ?? null,
  };
}

/** The coordinator's store on PostgreSQL: each method is one repository call (one transaction where it writes several rows). */
export class PostgresStore implements CoordinatorStore {
  constructor(private readonly db: Db) {}

  async loadFleet(): Promise<FleetSnapshot> {
    const rows = await loadFleet(this.db);
    const freeze = await loadFreeze(this.db);
    const restartLeaseMs = await loadRestartLease(this.db);
    return {
      restartLeaseMs,
      instances: rows.instances.map(recordOf),
      streams: rows.streams,
      assignments: rows.assignments,
      freeze: freeze ? { until: freeze.until ? new Date(freeze.until) : null, reason: freeze.reason } : null,
    };
  }

  loadStreams(ids: string[]): Promise<CatalogStream[]> {
    return loadStreams(this.db, ids);
  }

  writeRound(writes: RoundWrites): Promise<Map<string, number>> {
    return writeRound(this.db, writes);
  }

  writeSeen(seen: SeenWrite[]): Promise<void> {
    return flushLastSeen(this.db, seen);
  }

  saveRestartLease(ms: number): Promise<void> {
    return saveRestartLease(this.db, ms);
  }

  async saveFreeze(freeze: FreezeRecord | null): Promise<void> {
    if (freeze) await saveFreeze(this.db, { until: freeze.until?.toISOString() ?? null, reason: freeze.reason });
    else await clearFreeze(this.db);
  }
}
