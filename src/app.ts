import type { Server, ServerDuplexStream } from "@grpc/grpc-js";
import type { Config } from "./config/config.js";
import { pingDatabase, type Db } from "./db/database.js";
import { describeDatabaseError } from "./db/database-errors.js";
import { openDatabase, type OpenDatabase } from "./db/open-database.js";
import { EventsPruner } from "./db/events-retention.js";
import { readLeadership } from "./db/leadership-repository.js";
import { WriteTerm } from "./db/write-term.js";
import { AlreadyLed, Leadership, LeadershipLost } from "./leadership/leadership.js";
import { inForce, inheritedWaitMs, longerPredecessor } from "./leadership/lease-timings.js";
import { CAMPAIGN_EVERY_MS, openLeadership } from "./leadership/open-leadership.js";
import { ReplicaStatus } from "./leadership/replica-status.js";
import { RoleSwitch } from "./leadership/role-switch.js";
import { standbyAdmin, standbyConnect } from "./grpc/standby-services.js";
import type { AdminServiceServer } from "./gen/orchestrator/v1/admin.js";
import { bindGrpcServer, createGrpcServer, shutdownGrpcServer } from "./grpc/grpc-server.js";
import { authInterceptor } from "./grpc/auth-interceptor.js";
import { Security } from "./auth/security.js";
import { HealthState } from "./grpc/health.js";
import { addReflection } from "./grpc/reflection.js";
import { adminService } from "./grpc/admin-service.js";
import { connectService } from "./grpc/connect-service.js";
import { leaderConnect } from "./grpc/leader-connect.js";
import { tolerant } from "./grpc/undecodable.js";
import { systemClock } from "./coordinator/clock.js";
import { Coordinator } from "./coordinator/coordinator.js";
import { PostgresStore } from "./db/postgres-store.js";
import { AdminServiceService } from "./gen/orchestrator/v1/admin.js";
import type { ConnectRequest } from "./gen/orchestrator/v1/orchestrator.js";
import { HttpShim } from "./http/http-server.js";
import { probeRoutes } from "./http/probe-routes.js";
import { statusRoutes } from "./http/status-routes.js";
import { httpGuard } from "./http/http-guard.js";
import { OrchestratorMetrics } from "./metrics/metrics.js";
import { checkSourceTable } from "./db/source-table-repository.js";
import { SourceTableSync } from "./sync/source-table-sync.js";
import type { Logger } from "./log/logger.js";
import { aboutThisRun } from "./status/about.js";
import { VERSION } from "./version.js";

/** A start-up failure whose message is the whole story (no stack trace needed). */
export class StartupError extends Error {
  override name = "StartupError";
}

/** Ports actually bound, which differ from the configuration when it asks for port 0. */
export interface BoundPorts {
  grpc: number;
  http: number;
}

/**
 * Owns everything with a lifetime: the embedded database, the pool, the gRPC
 * and HTTP servers, and their orderly shutdown.
 */
export class OrchestratorApp {
  readonly health = new HealthState();
  readonly about = aboutThisRun(VERSION);
  readonly metrics = new OrchestratorMetrics();
  private database?: OpenDatabase;
  readonly replica: ReplicaStatus;
  private leadership?: Leadership;
  private readonly writeTerm = new WriteTerm();
  private standbyTimer?: NodeJS.Timeout;
  private lostWith?: LeadershipLost;
  private readonly lostListeners: Array<(error: LeadershipLost) => void> = [];
  private readonly standbyConnect = { connect: (call: ServerDuplexStream<ConnectRequest, Buffer>) => standbyConnect(call, this.replica) };
  private readonly connect = new RoleSwitch(this.standbyConnect);
  private admin?: RoleSwitch<AdminServiceServer>;
  private pruner?: EventsPruner;
  private grpc?: Server;
  private http?: HttpShim;
  private coordinatorRef?: Coordinator;
  private security?: Security;
  private sync?: SourceTableSync;
  private stopping?: Promise<void>;
  private starting?: Promise<unknown>;
  /** start() failed by itself and is running stop(): the shutdown must not wait for start(). */
  private startFailed = false;
  ports: BoundPorts = { grpc: 0, http: 0 };

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.replica = new ReplicaStatus(config.leadership.mode, config.leadership.advertiseAddress);
    this.metrics.watchReplica(this.replica);
  }

  /** Called once if this process loses its leadership; the process should then exit for its supervisor to start it again as a standby. */
  onLeadershipLost(listener: (error: LeadershipLost) => void): void {
    this.lostListeners.push(listener);
  }

  /** The Kysely handle; only valid after start(). */
  get db(): Db {
    if (!this.database) throw new Error("orchestrator not started");
    return this.database.db;
  }

  /** The coordinator; only valid after start(). */
  get coordinator(): Coordinator {
    if (!this.coordinatorRef) throw new Error("orchestrator not started");
    return this.coordinatorRef;
  }

  /** True once stop() was called from outside (e.g. by a signal), not because start() failed. */
  get stopRequested(): boolean {
    return this.stopping !== undefined && !this.startFailed;
  }

  /** Starts the database, migrates, leads or stands by, binds both servers. A stop() meanwhile waits for this to settle, then closes what it opened. */
  start(): Promise<BoundPorts> {
    const run = this.startServing();
    this.starting = run.catch(() => undefined);
    return run;
  }

  /** Gives up starting once a stop was requested; stop() closes what exists. */
  private checkNotStopping(): void {
    if (this.stopping) throw new StartupError("stopped while starting");
  }

  private async startServing(): Promise<BoundPorts> {
    try {
      // First: a token list or TLS file that cannot be used stops start-up before anything else starts.
      const security = new Security(this.config.security, this.logger.child({ component: "auth" }), this.metrics);
      this.security = security;
      this.metrics.watchCertificates(() => security.certificates());
      const { summary, warning } = security.describe(this.config.bindHost);
      this.logger.info(summary, "security");
      if (warning) this.logger.warn(warning);
      this.database = await openDatabase(this.config, this.logger.child({ component: "db" }), this.config.dbPoolSize, this.writeTerm);
      this.logger.child({ component: "db" }).info({ applied: this.database.applied }, "migrations up to date");
      this.checkNotStopping();
      const leadership = this.createLeadership(this.database.url);
      if (this.config.leadership.mode === "single") {
        await this.lead(await leadership.campaign().catch((error: unknown) => {
          throw error instanceof AlreadyLed ? new StartupError(error.message) : error;
        }));
      } else {
        // A standby's connections write for nobody until it is elected.
        this.writeTerm.claim(0);
      }
      this.checkNotStopping();
      this.grpc = createGrpcServer([authInterceptor(security.policy, security.refusals)]);
      this.health.addToServer(this.grpc);
      if (this.config.security.reflection) addReflection(this.grpc);
      if (this.coordinatorRef) this.connect.switchTo(leaderConnect(this.coordinatorRef, this.config, security, this.metrics, this.logger.child({ component: "session" })));
      this.grpc.addService(connectService, this.connect.handlers(["connect"]));
      this.admin = new RoleSwitch<AdminServiceServer>(this.coordinatorRef ? this.leaderAdmin(this.coordinatorRef) : this.standbyAdmin());
      this.grpc.addService(...tolerant(AdminServiceService, this.admin.handlers(Object.keys(AdminServiceService) as Array<keyof AdminServiceServer & string>)));
      const grpcPort = await bindGrpcServer(this.grpc, this.config.bindHost, this.config.grpcPort, security.grpcCredentials());
      security.start();
      this.checkNotStopping();
      const fleetRoutes = statusRoutes(() => this.coordinatorRef, this.metrics, this.about, this.replica);
      this.http = new HttpShim(
        {
          ...probeRoutes({ pingDatabase: () => this.ping(), grpcStatus: () => this.health.status, about: this.about, replica: this.replica }),
          ...fleetRoutes,
        },
        this.logger.child({ component: "http" }),
        {
          ...(security.httpTls ? { tls: security.httpTls } : {}),
          guard: httpGuard(security.policy, security.refusals, Object.keys(fleetRoutes), this.config.security.httpStatusPublic),
        },
      );
      const httpPort = await this.http.listen(this.config.bindHost, this.config.httpPort);
      this.checkNotStopping();
      this.ports = { grpc: grpcPort, http: httpPort };
      if (this.coordinatorRef) {
        this.health.set("SERVING");
        this.logger.info({ grpcPort, httpPort, version: VERSION, term: this.replica.term }, "orchestrator serving");
      } else {
        this.logger.info({ grpcPort, httpPort, version: VERSION, advertise: this.replica.advertiseAddress }, "standby: waiting for the leader lock");
        this.standBy();
      }
      return this.ports;
    } catch (error) {
      // A stop already under way cleans up once this settles; waiting for it here would deadlock.
      if (!this.stopping) {
        this.startFailed = true;
        await this.stop().catch(() => undefined);
      }
      throw error instanceof StartupError ? error : new StartupError((error as Error).message);
    }
  }

  private createLeadership(url: string): Leadership {
    const leadership = openLeadership(this.config, url, this.logger.child({ component: "leadership" }));
    leadership.onLost((error) => this.lost(error));
    this.writeTerm.onFenced((error) => leadership.deposed(`the database refused a write: ${error.message}`));
    this.leadership = leadership;
    return leadership;
  }

  /** Waits for the lock, keeping the leader's address fresh for go_away hints, then leads. */
  private standBy(): void {
    const refresh = () => void readLeadership(this.db).then((row) => this.replica.heardOf(row.term, row.leaderAddress), () => undefined);
    refresh();
    // As often as the campaign: after a leader dies, the go_aways of standbys name the next one
    // within a quarter second of its election, not the dead one for up to a second.
    this.standbyTimer = setInterval(refresh, CAMPAIGN_EVERY_MS);
    this.leadership!.campaign().then(
      async (term) => {
        clearInterval(this.standbyTimer);
        try {
          await this.lead(term);
          this.connect.switchTo(leaderConnect(this.coordinatorRef!, this.config, this.security!, this.metrics, this.logger.child({ component: "session" })));
          this.admin!.switchTo(this.leaderAdmin(this.coordinatorRef!));
          this.health.set("SERVING");
          this.logger.info({ term, advertise: this.replica.advertiseAddress }, "elected: leading");
        } catch (error) {
          this.lost(new LeadershipLost(`could not take over: ${(error as Error).message}`));
        }
      },
      (error: unknown) => {
        if (!this.stopping) this.logger.error({ err: error }, "campaign for the leader lock ended");
      },
    );
  }

  /** Starts the coordinator for `term`: the fleet as the last leader left it, every lease it may have given honoured. */
  private async lead(term: number): Promise<void> {
    this.checkNotStopping();
    this.writeTerm.claim(term);
    this.replica.leading(term);
    const coordinator = new Coordinator(new PostgresStore(this.db), this.config, this.logger.child({ component: "coordinator" }), systemClock, this.metrics, this.leadership);
    this.metrics.watch(coordinator, this.about, this.replica);
    this.coordinatorRef = coordinator;
    // A previous leader may have renewed leases for up to a leader lease after this election (README,
    // "Several replicas"), and with longer durations than this process's own (lease-timings.ts).
    const { timings, found } = this.leadership!;
    const longer = longerPredecessor(timings, found);
    if (longer) this.logger.warn({ found, own: timings }, longer);
    await coordinator.start(inheritedWaitMs(timings, inForce(timings, found), this.config.leadership.mode === "replicas"));
    coordinator.audit("leader.elected", undefined, { term, address: this.replica.advertiseAddress, mode: this.config.leadership.mode });
    this.checkNotStopping();
    await this.startSync(coordinator);
    this.pruner = new EventsPruner(this.db, { retentionDays: this.config.eventsRetentionDays }, this.logger.child({ component: "retention" }));
    this.pruner.start();
  }

  private leaderAdmin(coordinator: Coordinator): AdminServiceServer {
    return adminService(this.db, coordinator, this.logger.child({ component: "admin" }), this.about, this.config.adminCallTimeoutMs, this.replica, this.config.maxWatchers);
  }

  /** A replica that does not lead: catalog reads from the tables, GetStatus, and refusals naming the leader. */
  private standbyAdmin(): AdminServiceServer {
    return standbyAdmin(this.replica, this.about, { db: this.db, logger: this.logger.child({ component: "admin" }), callTimeoutMs: this.config.adminCallTimeoutMs });
  }

  /** Leadership is gone: sessions end now, nothing more is written, and the listeners (main) end the process. */
  private lost(error: LeadershipLost): void {
    if (this.lostWith) return;
    this.lostWith = error;
    clearInterval(this.standbyTimer);
    this.replica.steppedDown();
    this.health.set("NOT_SERVING");
    this.connect.switchTo(this.standbyConnect);
    this.admin?.switchTo(this.standbyAdmin());
    this.coordinatorRef?.stepDown("");
    for (const listener of this.lostListeners) listener(error);
  }

  private async startSync(coordinator: Coordinator): Promise<void> {
    const table = this.config.streamsSourceTable;
    if (!table) return;
    try {
      await checkSourceTable(this.db, table);
    } catch (error) {
      throw new StartupError(`STREAMS_SOURCE_TABLE=${table} cannot be read: ${describeDatabaseError(error)}`);
    }
    this.sync = new SourceTableSync(this.db, table, this.config.streamsSyncIntervalMs, coordinator, this.logger.child({ component: "sync" }));
    await this.sync.start();
  }

  private async ping(): Promise<void> {
    if (!this.database) throw new Error("no database");
    await pingDatabase(this.database.pool);
  }

  /** Idempotent orderly shutdown: NOT_SERVING first, then servers, pool, embedded database. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    if (!this.startFailed) await this.starting;
    this.health.set("NOT_SERVING");
    await this.sync?.stop();
    await this.pruner?.stop();
    clearInterval(this.standbyTimer);
    // Sessions get go_away and end first, so the gRPC server has no open streams to wait for.
    // After a lost leadership they have ended already, and nothing may be written.
    if (!this.lostWith) await this.coordinatorRef?.stop();
    // Released before the servers close: a standby can take over while they drain.
    await this.leadership?.stop();
    const budget = Math.max(1_000, this.config.shutdownTimeoutMs - 3_000);
    await Promise.all([
      this.grpc ? shutdownGrpcServer(this.grpc, budget) : undefined,
      // HTTP requests are short: a second is enough for those under way.
      this.http?.close(Math.min(budget, 1_000)),
    ]);
    this.security?.stop();
    await this.database?.close();
    this.database = undefined;
    this.logger.info("orchestrator stopped");
  }
}
