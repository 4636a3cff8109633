/**
 * Several orchestrator replicas on the run's PostgreSQL, each behind a fault
 * proxy of its own on the way to the database (so one replica can be cut from
 * it while the others still reach it), supervised as `restart: unless-stopped`
 * would: a replica that exits is started again, as a standby. Expected exits
 * are the run's own kills and a deposed leader's exit 1; any other exit is a
 * violation. A sampler asks every replica for its role and term every 100 ms:
 * two replicas ever leading in the same term is a violation.
 */
import { leaseMarginMs } from "../../src/coordinator/lease-rule.js";
import { takeoverWaitMs } from "../../src/leadership/lease-timings.js";
import { FaultProxy } from "../helpers/fault-proxy.js";
import { freePort, spawnOrchestrator, waitForHttp200, type NodeChild } from "../helpers/process.js";
import { pollUntil } from "../helpers/wait.js";
import type { OrchestratorExit } from "./chaos-orchestrator.js";
import { onEmergency } from "./emergency-stop.js";
import type { Timeline } from "./timeline.js";

/** What a deposed leader prints on its way out (src/main.ts). */
const DEPOSED = /exiting so that this replica is restarted as a standby/;

/** The timings a replica test runs with: heartbeat, the instances' lease (and grace), the leader lease. */
export interface ReplicaTimings {
  heartbeatMs: number;
  leaseMs: number;
  leaderLeaseMs: number;
}

/** The orchestrator settings for `t` (REPLICA_LOG_LEVEL=debug shows what the replicas did). */
export function replicaEnv(t: ReplicaTimings): Record<string, string> {
  return {
    LOG_LEVEL: process.env.REPLICA_LOG_LEVEL ?? "warn",
    HEARTBEAT_INTERVAL_MS: String(t.heartbeatMs),
    LEASE_TTL_MS: String(t.leaseMs),
    RECONNECT_GRACE_MS: String(t.leaseMs),
    LEADER_LEASE_MS: String(t.leaderLeaseMs),
  };
}

/**
 * How long after a fault on the leader every takeover wait is over, from the rules
 * themselves: the next leader is elected at most one leader lease after the fault (the
 * database ends a silent holder's session after idle_session_timeout), then keeps the
 * streams of owners that have not come back for takeoverWaitMs plus their lease and its
 * margin (src/coordinator/fleet-restore.ts). A move before this is the takeover's doing.
 */
export function takeoverOverMs(t: Pick<ReplicaTimings, "leaseMs" | "leaderLeaseMs">): number {
  return t.leaderLeaseMs + takeoverWaitMs(t.leaderLeaseMs) + t.leaseMs + leaseMarginMs(t.leaseMs);
}

export interface ReplicaExit extends OrchestratorExit {
  replica: string;
}

export class ChaosReplica {
  proc: NodeChild | undefined;
  /** The run asked for this exit (a kill). */
  killing = false;
  paused = false;
  /** Its path to the database is faulted: a start-up that fails on it is expected. */
  cutFromDatabase = false;

  constructor(
    readonly name: string,
    readonly grpcPort: number,
    readonly httpPort: number,
    readonly databaseProxy: FaultProxy,
  ) {}

  get grpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  get httpBase(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  /** Its role and term as /readyz says, or undefined if it does not answer in time (down, paused). */
  async readyz(): Promise<{ role: string; term: number } | undefined> {
    if (!this.running || this.paused) return undefined;
    try {
      const response = await fetch(`${this.httpBase}/readyz`, { signal: AbortSignal.timeout(500) });
      const body = (await response.json()) as { role?: string; term?: number };
      // Elected but still loading the fleet, a replica says "leader" with a 503: not serving yet.
      const role = response.status === 200 ? String(body.role) : body.role === "leader" ? "taking-over" : String(body.role ?? "down");
      return { role, term: Number(body.term ?? 0) };
    } catch {
      return undefined;
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.proc) process.kill(this.proc.pid, signal);
  }
}

export class ChaosReplicas {
  readonly exits: ReplicaExit[] = [];
  /** From each leader fault until another replica served as leader. */
  readonly restartsMs: number[] = [];
  /** Which replica led each term, as the sampler saw it. */
  readonly ledTerm = new Map<number, string>();
  /** The last lines of every replica process that exited, for a failure report. */
  private readonly pastOutputs: string[] = [];
  private leading: ChaosReplica | undefined;
  /** Killed with `restart: false`: the supervisor leaves them down. */
  private readonly keptDown = new Set<ChaosReplica>();
  private leadingTerm = -1;
  private stopping = false;
  private sampler: NodeJS.Timeout | undefined;
  private readonly forget = onEmergency(() => {
    for (const r of this.replicas) {
      r.signal("SIGCONT");
      r.proc?.child.kill("SIGKILL");
    }
  });

  private constructor(
    readonly replicas: ChaosReplica[],
    private readonly env: (replica: ChaosReplica) => Record<string, string>,
    private readonly timeline: Timeline,
  ) {}

  /** `count` replicas on `databaseUrl` (host 127.0.0.1), each through a proxy of its own; resolves once one leads. */
  static async start(databaseUrl: string, count: number, env: Record<string, string>, timeline: Timeline): Promise<ChaosReplicas> {
    const url = new URL(databaseUrl);
    const replicas: ChaosReplica[] = [];
    for (let i = 0; i < count; i++) {
      replicas.push(new ChaosReplica(`replica-${i}`, await freePort(), await freePort(), await FaultProxy.start(`${url.hostname}:${url.port}`)));
    }
    const own = (r: ChaosReplica) => {
      const proxied = new URL(databaseUrl);
      proxied.port = String(r.databaseProxy.port);
      return {
        LOG_LEVEL: "warn",
        ...env,
        DATABASE_URL: proxied.toString(),
        LEADER_ELECTION: "replicas",
        ADVERTISE_ADDRESS: r.grpcAddress,
        GRPC_PORT: String(r.grpcPort),
        HTTP_PORT: String(r.httpPort),
        BIND_HOST: "127.0.0.1",
      };
    };
    const set = new ChaosReplicas(replicas, own, timeline);
    // One at a time: the first to bind campaigns first and leads; the order of the others does not matter.
    for (const r of replicas) await set.spawn(r);
    set.sampler = setInterval(() => void set.sample(), 100);
    await set.waitForLeader(undefined, 30_000);
    return set;
  }

  get addresses(): string[] {
    return this.replicas.map((r) => r.grpcAddress);
  }

  /** The replica last seen leading (the first one before any was). */
  get leader(): ChaosReplica {
    return this.leading ?? this.replicas[0]!;
  }

  private async spawn(replica: ChaosReplica): Promise<void> {
    replica.killing = false;
    const proc = spawnOrchestrator(this.env(replica), { keepLines: 200 });
    replica.proc = proc;
    void proc.exited.then(async ({ code, signal }) => {
      await proc.closed;
      this.pastOutputs.push(`--- ${replica.name} (pid ${proc.pid}, exit ${code ?? signal})\n${proc.output()}`);
      const expected = replica.killing || (code === 1 && (DEPOSED.test(proc.stderr()) || replica.cutFromDatabase));
      this.exits.push({ replica: replica.name, at: performance.now(), code, signal, expected });
      this.timeline.note(`replica exited`, { replica: replica.name, code, signal, expected });
      if (!expected) this.timeline.violation("orchestrator replica exited on its own", { replica: replica.name, code, signal, output: proc.output().slice(-2_000) });
      if (this.stopping || replica.proc !== proc || this.keptDown.has(replica)) return;
      // The supervisor starts it again, as a standby; start-up failures (its database path cut) retry.
      setTimeout(() => {
        if (!this.stopping && replica.proc === proc) void this.spawn(replica).catch(() => undefined);
      }, 300);
    });
    // Ports bound (a standby is healthy, not ready).
    await waitForHttp200(`${replica.httpBase}/healthz`, 60_000, proc);
  }

  private async sample(): Promise<void> {
    const seen = await Promise.all(this.replicas.map(async (r) => [r, await r.readyz()] as const));
    for (const [replica, state] of seen) {
      if (state?.role !== "leader") continue;
      const before = this.ledTerm.get(state.term);
      if (before === undefined) {
        this.ledTerm.set(state.term, replica.name);
        this.timeline.note("leader seen", { replica: replica.name, term: state.term });
      } else if (before !== replica.name) {
        this.timeline.violation("two replicas led the same term", { term: state.term, first: before, second: replica.name });
      }
      this.follow(replica, state.term);
    }
  }

  /** The replica leading the highest term seen is the one admin calls and the fleet's first choice go to. */
  private follow(replica: ChaosReplica, term: number): void {
    if (term < this.leadingTerm) return;
    this.leading = replica;
    this.leadingTerm = term;
  }

  /** Resolves with a replica other than `not` that answers /readyz 200 as the leader. */
  async waitForLeader(not: ChaosReplica | undefined, timeoutMs: number): Promise<ChaosReplica> {
    let found: ChaosReplica | undefined;
    const ok = await pollUntil(
      async () => {
        for (const r of this.replicas) {
          if (r === not) continue;
          const state = await r.readyz();
          // A leader of an older term than one seen (a resumed, deposed one) does not count.
          if (state?.role === "leader" && state.term >= this.leadingTerm) {
            found = r;
            this.follow(r, state.term);
            return true;
          }
        }
        return false;
      },
      timeoutMs,
      25,
    );
    if (!ok || !found) throw new Error(`no replica${not ? ` other than ${not.name}` : ""} led within ${timeoutMs} ms`);
    return found;
  }

  /** SIGKILL (a crash, an OOM kill); the supervisor starts it again as a standby, unless `restart` is false. */
  async kill(replica: ChaosReplica, { restart = true }: { restart?: boolean } = {}): Promise<void> {
    replica.killing = true;
    if (!restart) this.keptDown.add(replica);
    const proc = replica.proc;
    proc?.child.kill("SIGKILL");
    await proc?.exited;
  }

  /** The last lines of every replica process, those that exited first. */
  output(): string {
    return [...this.pastOutputs, ...this.replicas.filter((r) => r.running).map((r) => `--- ${r.name} (pid ${r.proc!.pid}, running)\n${r.proc!.output()}`)].join("\n");
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sampler);
    for (const r of this.replicas) {
      r.killing = true;
      if (r.paused) r.signal("SIGCONT");
    }
    await Promise.all(this.replicas.map((r) => r.proc?.stop(15_000)));
    await Promise.all(this.replicas.map((r) => r.databaseProxy.close()));
    this.forget();
  }
}
