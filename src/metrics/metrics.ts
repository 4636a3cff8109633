import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Coordinator } from "../coordinator/coordinator.js";
import type { CoordinatorObserver, DatabaseOperation } from "../coordinator/observer.js";
import type { RoundDecision } from "../coordinator/round-planner.js";
import type { ReplicaView } from "../leadership/replica-status.js";
import type { About } from "../status/about.js";
import { fleetStatus } from "../status/fleet-status.js";

/**
 * The orchestrator's Prometheus metrics, in a registry of its own (several
 * orchestrators may share a process in tests). Gauges are read from the
 * coordinator at scrape time, so they always match the state.
 */
export class OrchestratorMetrics implements CoordinatorObserver {
  readonly registry = new Registry();
  private readonly heartbeats = new Counter({ name: "finger_heartbeats_received_total", help: "Heartbeats received from instances", registers: [this.registry] });
  private readonly supersededSessions = new Counter({ name: "finger_sessions_superseded_total", help: "Sessions ended because the same instance connected again", registers: [this.registry] });
  private readonly overflowedSessions = new Counter({
    name: "finger_sessions_queue_overflow_total",
    help: "Sessions ended because their instance stopped reading and more than SESSION_QUEUE_LIMIT_BYTES would have waited for it",
    registers: [this.registry],
  });
  private readonly moves = new Counter({
    name: "finger_stream_moves_total",
    help: "Streams granted (action=assigned) or told to stop (action=revoking), by reason: new, orphan, rebalance, drain, capacity",
    labelNames: ["reason", "action"],
    registers: [this.registry],
  });
  private readonly warmMoves = new Counter({
    name: "finger_warm_streams_moved_total",
    help: "Streams taken from a live owner after they had run past WARM_UP_MS (each costs a whole identification window on its new owner), by reason",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  private readonly roundDuration = new Histogram({
    name: "finger_scheduling_round_duration_seconds",
    help: "Duration of scheduling rounds that changed something (plan, persist, push)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly dbErrors = new Counter({ name: "finger_database_errors_total", help: "Database operations that failed after retries", labelNames: ["operation"], registers: [this.registry] });
  private readonly events = new Counter({ name: "finger_events_total", help: "Audit events by kind", labelNames: ["kind"], registers: [this.registry] });
  private readonly authFailures = new Counter({
    name: "finger_auth_failures_total",
    help: "Calls and requests refused for their credentials, by service (a gRPC service, or http) and reason: missing, malformed, unknown, role, identity",
    labelNames: ["service", "reason"],
    registers: [this.registry],
  });
  private readonly credentialReloads = new Counter({
    name: "finger_credential_reloads_total",
    help: "Changed TLS or token files (kind=tls, tokens), by result: applied, or rejected (what was in use stays)",
    labelNames: ["kind", "result"],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "finger_" });
  }

  /** This replica's role and term, read at scrape time (a standby has no coordinator to watch). */
  watchReplica(replica: ReplicaView): void {
    const registers = [this.registry];
    new Gauge({ name: "finger_leader", help: "1 while this replica leads, 0 while it stands by or stepped down", registers, collect() {
      this.set(replica.role === "leader" ? 1 : 0);
    } });
    new Gauge({ name: "finger_leadership_term", help: "The leadership term this replica leads, or the latest it read as a standby", registers, collect() {
      this.set(replica.term);
    } });
  }

  /** Registers the gauges that read the coordinator at scrape time. */
  watch(coordinator: Coordinator, about: About, replica: ReplicaView): void {
    // One scrape reads several gauges; compute the O(instances + streams) summary once per scrape.
    let cached: { at: number; value: ReturnType<typeof fleetStatus> } | undefined;
    const status = () => {
      const now = performance.now();
      if (!cached || now - cached.at > 100) cached = { at: now, value: fleetStatus(coordinator, about, replica) };
      return cached.value;
    };
    const registers = [this.registry];
    new Gauge({
      name: "finger_instances",
      help: "Known instances by state",
      labelNames: ["state"],
      registers,
      collect() {
        const s = status().instances;
        for (const state of ["connected", "disconnected", "draining", "dead"] as const) this.set({ state }, s[state]);
      },
    });
    new Gauge({ name: "finger_instances_connected", help: "Instances with an open session (draining included)", registers, collect() {
      const s = status().instances;
      this.set(s.connected + s.draining);
    } });
    new Gauge({ name: "finger_instances_suspect", help: "Connected instances silent for longer than SUSPECT_AFTER_MS (given no new streams)", registers, collect() {
      let n = 0;
      const cutoff = coordinator.suspectCutoff();
      for (const e of coordinator.view.instances()) if (e.isSuspect(cutoff)) n++;
      this.set(n);
    } });
    new Gauge({
      name: "finger_streams",
      help: "Catalog streams by state: assigned, revoking, unassigned (enabled, no owner), disabled",
      labelNames: ["state"],
      registers,
      collect() {
        const s = status().streams;
        this.set({ state: "assigned" }, s.assigned);
        this.set({ state: "revoking" }, s.revoking);
        this.set({ state: "unassigned" }, s.unassigned);
        this.set({ state: "disabled" }, s.total - s.enabled);
      },
    });
    new Gauge({ name: "finger_capacity_total", help: "Sum of the capacities of connected, non-draining instances", registers, collect() {
      this.set(status().totalCapacity);
    } });
    new Gauge({ name: "finger_rebalancing_frozen", help: "1 while rebalancing is frozen", registers, collect() {
      this.set(coordinator.freeze ? 1 : 0);
    } });
    coordinator.events.on("event", (e) => this.events.inc({ kind: e.kind }));
  }

  heartbeat(): void {
    this.heartbeats.inc();
  }

  superseded(): void {
    this.supersededSessions.inc();
  }

  sessionQueueOverflowed(): void {
    this.overflowedSessions.inc();
  }

  round(decision: RoundDecision, durationSeconds: number): void {
    this.roundDuration.observe(durationSeconds);
    for (const g of decision.grants) this.moves.inc({ reason: g.reason, action: "assigned" });
    for (const r of decision.revocations) {
      this.moves.inc({ reason: r.reason, action: "revoking" });
      if (r.warm !== false) this.warmMoves.inc({ reason: r.reason });
    }
  }

  /** A refused call or request (the AuthFailureSink of src/grpc/auth-interceptor.ts). */
  count(service: string, reason: string): void {
    this.authFailures.inc({ service, reason });
  }

  /** The end of each TLS certificate in use, read at scrape time (finger_tls_certificate_expiry_timestamp_seconds{server}). */
  watchCertificates(read: () => Array<{ server: string; validTo: Date }>): void {
    new Gauge({
      name: "finger_tls_certificate_expiry_timestamp_seconds",
      help: "When the TLS certificate a server presents stops being valid (Unix time), by server: grpc, http; alert well before it",
      labelNames: ["server"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const cert of read()) this.set({ server: cert.server }, Math.floor(cert.validTo.getTime() / 1000));
      },
    });
  }

  /** A changed credentials file: `kind` is tls or tokens. */
  credentialsReloaded(kind: "tls" | "tokens", applied: boolean): void {
    this.credentialReloads.inc({ kind, result: applied ? "applied" : "rejected" });
  }

  databaseError(operation: DatabaseOperation): void {
    this.dbErrors.inc({ operation });
  }
}
