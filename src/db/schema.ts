import type { ColumnType, Generated, Selectable } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, T | string, T | string>;
/** A column the database fills in when an insert leaves it out. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

/** Lifecycle of an instance as the orchestrator sees it. */
export type InstanceStatus = "connected" | "disconnected" | "dead" | "left";

/** A fingerprinting worker known to the orchestrator. */
export interface InstancesTable {
  id: string;
  capacity: number;
  labels: Json<Record<string, string>>;
  version: Defaulted<string>;
  status: Defaulted<InstanceStatus>;
  draining: Defaulted<boolean>;
  session_id: string | null;
  registered_at: Timestamp;
  connected_at: Date | null;
  last_seen_at: Date | null;
  /** When an instance that left to return must be back (wall clock); null: none promised. */
  return_by: Date | null;
  metrics: Json<Record<string, unknown>> | null;
  updated_at: Timestamp;
}

/** An entry of the stream catalog. */
export interface StreamsTable {
  id: string;
  url: string;
  name: Defaulted<string>;
  metadata: Json<Record<string, string>>;
  enabled: Defaulted<boolean>;
  /** "api" (admin calls, imports) or "table" (followed from the users' table). */
  source: Defaulted<"api" | "table">;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Who owns a stream: at most one row per stream, so never two owners. */
export interface AssignmentsTable {
  stream_id: string;
  instance_id: string;
  /** Fencing token; drawn from a sequence so every grant is strictly larger. */
  epoch: ColumnType<number, number, number>;
  /** "revoking": the owner was told to stop and has not acknowledged yet. */
  state: Defaulted<"active" | "revoking">;
  assigned_at: Timestamp;
}

/** Append-only audit log of what happened. */
export interface EventsTable {
  id: Generated<number>;
  at: Timestamp;
  kind: string;
  instance_id: string | null;
  stream_id: string | null;
  detail: ColumnType<Record<string, unknown>, Record<string, unknown> | string | undefined, Record<string, unknown> | string>;
  /** The leadership term of the writer, filled in by the database from the connection's claim (null: no term claimed). */
  term: ColumnType<string | null, never, never>;
}

/** Operator switches that survive restarts, by key. */
export interface SettingsTable {
  key: string;
  value: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

/** The one row naming the current leadership term and its leader (written only by an election). */
export interface LeadershipTable {
  id: Generated<boolean>;
  term: number;
  leader_address: string;
  holder: string;
  elected_at: Date | null;
  /** The lease durations whose promises may still be in force (src/leadership/lease-timings.ts); null: not known. */
  lease_ttl_ms: number | null;
  leader_lease_ms: number | null;
}

export interface Database {
  leadership: LeadershipTable;
  settings: SettingsTable;
  instances: InstancesTable;
  streams: StreamsTable;
  assignments: AssignmentsTable;
  events: EventsTable;
}

export type InstanceRow = Selectable<InstancesTable>;
export type StreamRow = Selectable<StreamsTable>;
export type AssignmentRow = Selectable<AssignmentsTable>;
export type EventRow = Selectable<EventsTable>;
