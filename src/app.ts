import type { Server, ServerDuplexStream } from "@grpc/grpc-js";
import type { Config } from "./config/config.js";
import { pingDatabase, type Db } from "./db/database.js";
import { describeDatabaseError } from "./db/database-errors.js";
import { openDatabase, type OpenDatabase } from "./db/open-database.js";
import { EventsPruner } from "./db/events-retention.js";
import { OrchestratorLock } from "./db/orchestrator-lock.js";
import { bindGrpcServer, createGrpcServer, shutdownGrpcServer } from "./grpc/grpc-server.js";
import { authInterceptor } from "./grpc/auth-interceptor.js";
import { Security } from "./auth/security.js";
import { HealthState } from "./grpc/health.js";
import { addReflection } from "./grpc/reflection.js";
import { adminService } from "./grpc/admin-service.js";
import { connectService } from "./grpc/connect-service.js";
import { InstanceSession, type SessionOptions } from "./grpc/instance-session.js";
import { SessionAdmission } from "./grpc/session-admission.js";
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
  private lock?: OrchestratorLock;
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
  ) {}

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

  /**
   * Starts the database, migrates, binds both servers, then reports SERVING.
   * A stop() meanwhile waits for this to settle and then closes whatever it
   * opened; start() gives up at its next step with a StartupError.
   */
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
      const { summary, warning } = security.describe(this.config.bindHost);
      this.logger.info(summary, "security");
      if (warning) this.logger.warn(warning);
      this.database = await openDatabase(this.config, this.logger.child({ component: "db" }), this.config.dbPoolSize);
      this.logger.child({ component: "db" }).info({ applied: this.database.applied }, "migrations up to date");
      this.checkNotStopping();
      this.lock = await OrchestratorLock.acquire(this.database.url, this.config.dbSchema, this.logger.child({ component: "db" }));
      this.checkNotStopping();
      const coordinator = new Coordinator(new PostgresStore(this.db), this.config, this.logger.child({ component: "coordinator" }), systemClock, this.metrics);
      this.metrics.watch(coordinator, this.about);
      this.coordinatorRef = coordinator;
      await coordinator.start();
      this.checkNotStopping();
      await this.startSync(coordinator);
      this.pruner = new EventsPruner(this.db, { retentionDays: this.config.eventsRetentionDays }, this.logger.child({ component: "retention" }));
      this.pruner.start();
      this.checkNotStopping();
      this.grpc = createGrpcServer([authInterceptor(security.policy, security.refusals)]);
      this.health.addToServer(this.grpc);
      if (this.config.security.reflection) addReflection(this.grpc);
      const sessions: SessionOptions = {
        helloTimeoutMs: this.config.helloTimeoutMs,
        queueLimitBytes: this.config.sessionQueueLimitBytes,
        logger: this.logger.child({ component: "session" }),
        queueOverflowed: () => this.metrics.sessionQueueOverflowed(),
        security,
        admission: new SessionAdmission({ maxSessions: this.config.maxSessions, maxSessionsPerConnection: this.config.maxSessionsPerConnection }),
        messageRate: { perSecond: this.config.sessionMessagesPerSecond, burst: this.config.sessionMessageBurst },
      };
      this.grpc.addService(connectService, {
        connect: (call: ServerDuplexStream<ConnectRequest, Buffer>) => void new InstanceSession(call, coordinator, sessions),
      });
      this.grpc.addService(...tolerant(AdminServiceService, adminService(this.db, coordinator, this.logger.child({ component: "admin" }), this.about, this.config.adminCallTimeoutMs, this.config.maxWatchers)));
      const grpcPort = await bindGrpcServer(this.grpc, this.config.bindHost, this.config.grpcPort, security.grpcCredentials());
      security.start();
      this.checkNotStopping();
      const fleetRoutes = statusRoutes(coordinator, this.metrics, this.about);
      this.http = new HttpShim(
        {
          ...probeRoutes({ pingDatabase: () => this.ping(), grpcStatus: () => this.health.status, about: this.about }),
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
      this.health.set("SERVING");
      this.logger.info({ grpcPort, httpPort, version: VERSION }, "orchestrator serving");
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
    // Sessions get go_away and end first, so the gRPC server has no open streams to wait for.
    await this.coordinatorRef?.stop();
    const budget = Math.max(1_000, this.config.shutdownTimeoutMs - 3_000);
    await Promise.all([
      this.grpc ? shutdownGrpcServer(this.grpc, budget) : undefined,
      this.http?.close(),
    ]);
    this.security?.stop();
    await this.lock?.release();
    await this.database?.close();
    this.database = undefined;
    this.logger.info("orchestrator stopped");
  }
}
