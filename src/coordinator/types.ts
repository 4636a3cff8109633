/** A catalog stream as the coordinator keeps it in memory; read-only, since the fleet index copies `enabled` when it is put in the catalog. */
export interface CatalogStream {
  readonly id: string;
  readonly url: string;
  readonly name: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly enabled: boolean;
}

/** A stream granted to an instance, with the fencing token of that grant. */
export interface GrantedStream {
  id: string;
  url: string;
  name: string;
  metadata: Record<string, string>;
  epoch: number;
}

/** Who owns a stream right now, as persisted in `assignments`. */
export interface Ownership {
  readonly instanceId: string;
  readonly epoch: number;
  /** Told to stop and not yet acknowledged: nobody else may get it meanwhile (set through Fleet.markRevoking). */
  readonly revoking: boolean;
  /** When this process granted it (monotonic); undefined when loaded at start-up: it may have run for long. */
  readonly grantedAt?: number;
}

/** What an instance says about itself in hello. */
export interface InstanceHello {
  instanceId: string;
  capacity: number;
  held: Array<{ streamId: string; epoch: number }>;
  labels: Record<string, string>;
  version: string;
}

/** Latest system metrics from heartbeats, with the legacy names. */
export type InstanceMetrics = Record<string, number | number[]>;

/** An entry for the audit log. */
export interface AuditEvent {
  kind: string;
  instanceId?: string;
  streamId?: string;
  detail?: Record<string, unknown>;
  at: Date;
}

/** Records an audit event: visible to watchers now, persisted with the next round. */
export type Audit = (event: AuditEvent) => void;

/** Why a session is being ended by the orchestrator. */
export type EndReason =
  | { kind: "superseded"; by: string }
  | { kind: "lease-expired"; leaseTtlMs: number }
  | { kind: "left" }
  | { kind: "shutdown" }
  /** This replica does not lead (any more); `leader` is where the leader is believed to be, "" when unknown. */
  | { kind: "not-leader"; leader: string };

/** Whether this process may act as the leader right now (src/leadership/leadership.ts); a single orchestrator always may. */
export interface Authority {
  mayAct(): boolean;
}

/** A process that is the only orchestrator: it always may act. */
export const SOLE_AUTHORITY: Authority = { mayAct: () => true };

/**
 * One instance session as a pipe: the gRPC layer implements it by encoding
 * what it is given, so the coordinator never touches gRPC.
 */
export interface SessionHandle {
  readonly sessionId: string;
  readonly peer: string;
  sendWelcome(welcome: WelcomeTerms): void;
  /** Sends an assignment numbered by the coordinator (see SessionOutbox). */
  sendAssignment(assignment: { seq: number; full: boolean; add: GrantedStream[]; remove: string[] }): void;
  /** Asks the instance to reconnect later (used on shutdown). */
  sendGoAway(reason: string, reconnectAfterMs: number, leaseExtensionMs: number, leaderAddress?: string): void;
  end(reason: EndReason): void;
}

/** What a welcome tells an instance: the rhythm of its heartbeats and the terms it holds its streams on. */
export interface WelcomeTerms {
  heartbeatIntervalMs: number;
  leaseTtlMs: number;
  /** A strict client stops its streams once disconnected for this long (or its lease ran out, if that is sooner). */
  reconnectGraceMs: number;
}
