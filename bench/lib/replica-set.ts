/**
 * Orchestrator replicas (LEADER_ELECTION=replicas) as child processes on one
 * shared database, each in a slot with fixed ports and ADVERTISE_ADDRESS, so a
 * replica killed and started again is where its peers' go_away hints and the
 * instances' address lists say it is, as under a supervisor that restarts it.
 */
import { freePort } from "../../test/helpers/process.js";
import type { BenchPostgres } from "./postgres.js";
import { startOrchestrator, type OrchestratorChild, type OrchestratorEnv } from "./process.js";
import { freshDatabase } from "./scenario.js";

/** What /readyz and /status say of a replica's leadership. */
export interface ReplicaRole {
  role: string;
  term: number;
  leaderAddress: string;
}

export interface ReplicaSlot {
  index: number;
  grpcAddress: string;
  httpBase: string;
  ports: { grpc: number; http: number };
  /** The process now in the slot. */
  child: OrchestratorChild;
}

/** GET `${httpBase}${path}` as JSON with its status; undefined when nothing answers (a killed replica). */
export async function getJson(httpBase: string, path: string): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const response = await fetch(`${httpBase}${path}`, { signal: AbortSignal.timeout(2_000) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

export class ReplicaSet {
  private constructor(
    readonly slots: ReplicaSlot[],
    private readonly databaseUrl: string,
    private readonly env: OrchestratorEnv,
    /** The database's name, for the benchmark's own queries. */
    readonly database: string,
  ) {}

  /**
   * Starts `count` replicas on a fresh database: the first one alone until it
   * leads (it migrates the empty database), then the others, which stand by.
   */
  static async start(pg: BenchPostgres, label: string, count: number, env: OrchestratorEnv): Promise<ReplicaSet> {
    const { database, databaseUrl } = await freshDatabase(pg, label);
    const ports: Array<{ grpc: number; http: number }> = [];
    for (let i = 0; i < count; i++) ports.push({ grpc: await freePort(), http: await freePort() });
    const start = (i: number) => startOrchestrator(databaseUrl, ReplicaSet.envOf(env, ports[i]!.grpc), { ports: ports[i]!, until: i === 0 ? "ready" : "alive" });
    const children = [await start(0)];
    children.push(...(await Promise.all(ports.slice(1).map((_, i) => start(i + 1)))));
    const slots = children.map((child, index) => ({ index, grpcAddress: child.grpcAddress, httpBase: child.httpBase, ports: ports[index]!, child }));
    return new ReplicaSet(slots, databaseUrl, env, database);
  }

  private static envOf(env: OrchestratorEnv, grpcPort: number): OrchestratorEnv {
    return { ...env, LEADER_ELECTION: "replicas", ADVERTISE_ADDRESS: `127.0.0.1:${grpcPort}` };
  }

  /** The addresses instances are given, in slot order. */
  get addresses(): string[] {
    return this.slots.map((s) => s.grpcAddress);
  }

  /** The URL the replicas connect with (the orchestrator's role), for reading what they wrote. */
  get url(): string {
    return this.databaseUrl;
  }

  /** The slot's leadership as its /readyz tells; undefined when it does not answer. */
  async roleOf(slot: ReplicaSlot): Promise<ReplicaRole | undefined> {
    const reply = await getJson(slot.httpBase, "/readyz");
    if (!reply) return undefined;
    return { role: String(reply.body.role), term: Number(reply.body.term), leaderAddress: String(reply.body.leader_address ?? "") };
  }

  /** The slot whose /readyz is 200 (the serving leader), if exactly one is. */
  async leader(): Promise<ReplicaSlot | undefined> {
    const ready = await Promise.all(this.slots.map(async (s) => (await getJson(s.httpBase, "/readyz"))?.status === 200));
    const leaders = this.slots.filter((_, i) => ready[i]);
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  /** SIGKILL, as a crash or an OOM kill does: no go_away, no lock released but by the database noticing. */
  async kill(slot: ReplicaSlot): Promise<void> {
    slot.child.child.kill("SIGKILL");
    await slot.child.exited;
  }

  /** Starts the slot's replica again on the same ports; resolves once it is alive (it stands by). */
  async restart(slot: ReplicaSlot): Promise<void> {
    slot.child = await startOrchestrator(this.databaseUrl, ReplicaSet.envOf(this.env, slot.ports.grpc), { ports: slot.ports, until: "alive" });
  }

  /** Replicas that exited on their own (a leader that lost its leadership exits 1): none should. */
  exited(): Array<{ slot: ReplicaSlot; code: number | null }> {
    return this.slots.filter((s) => s.child.child.exitCode !== null).map((s) => ({ slot: s, code: s.child.child.exitCode }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.child.stop(5_000)));
  }
}
