import type { InstanceState } from "./instance.js";
import type { AuditEvent, CatalogStream, InstanceMetrics, Ownership } from "./types.js";

// The data the port speaks in, for its implementations to import from here alone.
export type { AuditEvent, CatalogStream, InstanceMetrics, InstanceState, Ownership };

/** An instance's membership facts as stored. */
export interface InstanceRecord {
  id: string;
  capacity: number;
  labels: Record<string, string>;
  version: string;
  state: InstanceState;
  draining: boolean;
  /** The session of the connection the row was written for; null when none is open. */
  sessionId: string | null;
  registeredAt: Date | null;
  connectedAt: Date | null;
  lastSeenAt: Date | null;
  /** Left to return: when it must be back (wall clock, so that a restarted orchestrator honours it); null otherwise. */
  returnBy: Date | null;
  metrics: InstanceMetrics | null;
}

/** A stream and the instance a change concerns. */
export interface StreamOwner {
  streamId: string;
  instanceId: string;
}

/** Everything one scheduling round changes; written in one transaction. */
export interface RoundWrites {
  /** Instance rows to insert or update (registeredAt and metrics are not written here). */
  instances: InstanceRecord[];
  /** Assignments to delete, but only while they still name that owner. */
  releases: StreamOwner[];
  /** New owners; each gets a fresh epoch. */
  grants: StreamOwner[];
  /** Owners told to stop; the assignment stays theirs until they acknowledge. */
  revocations: StreamOwner[];
  events: AuditEvent[];
}

/** A rebalancing freeze as stored: until when (wall clock; null until lifted) and why. */
export interface FreezeRecord {
  until: Date | null;
  reason: string;
}

/** Everything the coordinator needs to pick up where the last run stopped: instances, catalog and assignments read in one snapshot, the freeze beside them. */
export interface FleetSnapshot {
  instances: InstanceRecord[];
  streams: CatalogStream[];
  assignments: Map<string, Ownership>;
  freeze: FreezeRecord | null;
  /** The lease extension the last orchestrator promised in its go_away at shutdown (0: none). */
  restartLeaseMs: number;
}

/** Last-seen bookkeeping of one instance (wall clock, for operators and restarts). */
export interface SeenWrite {
  id: string;
  at: Date;
  metrics: InstanceMetrics | null;
}

/**
 * What the coordinator needs from persistence. PostgreSQL implements it in
 * production (src/db/postgres-store.ts), MemoryStore in tests. Every write a
 * round makes goes through `writeRound`, as one transaction that either
 * commits whole or leaves nothing behind.
 */
export interface CoordinatorStore {
  loadFleet(): Promise<FleetSnapshot>;
  /** The current rows of some streams; ids that are absent were deleted. */
  loadStreams(ids: string[]): Promise<CatalogStream[]>;
  /**
   * Persists a round. Grants of streams that are no longer enabled are dropped.
   * @returns the fresh epoch of every grant written.
   */
  writeRound(writes: RoundWrites): Promise<Map<string, number>>;
  writeSeen(seen: SeenWrite[]): Promise<void>;
  /** Records the freeze in force, or none (null). */
  saveFreeze(freeze: FreezeRecord | null): Promise<void>;
  /** Records the lease extension about to be promised to every instance (before the go_aways go out). */
  saveRestartLease(ms: number): Promise<void>;
}

/** True when a round has nothing to write. */
export function isEmptyRound(w: RoundWrites): boolean {
  return !w.instances.length && !w.releases.length && !w.grants.length && !w.revocations.length && !w.events.length;
}
