/**
 * Draws faults at random (from a seed, so a failed run can be replayed) and
 * applies them to one instance's proxy, an instance, the orchestrator or the
 * database, healing each after a while. Control-plane faults (orchestrator
 * crash, database restart, stop, freeze) run one at a time, on a quiet,
 * balanced fleet, so that what follows them can be judged on its own.
 */
import type { ChaosDatabase } from "./chaos-database.js";
import type { ChaosFleet, ChaosInstance } from "./chaos-fleet.js";
import type { ChaosOrchestrator } from "./chaos-orchestrator.js";
import type { ReplicaFault, ReplicaFaults } from "./replica-faults.js";
import { EXCLUSIVE, type FaultKind, type Scenario } from "./scenarios.js";
import type { Timeline } from "./timeline.js";

/** mulberry32: small, fast, good enough to pick faults; the same seed gives the same draws. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const REPLICA_FAULTS: ReadonlySet<FaultKind> = new Set(["leader-kill", "leader-pause", "leader-db-cut"]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A time the control plane could not place anything: [from, to], to undefined while it lasts. */
export interface Outage {
  from: number;
  to: number | undefined;
  kind: FaultKind;
}

export interface Targets {
  fleet: ChaosFleet;
  /** One orchestrator process, or (replicas) none and the replica faults instead. */
  orchestrator: ChaosOrchestrator | undefined;
  replicaFaults: ReplicaFaults | undefined;
  database: ChaosDatabase | undefined;
  timeline: Timeline;
  /** Heals the fleet and resolves once it is balanced again (or the wait gives up). */
  quiesce(): Promise<void>;
  /**
   * Called after an orchestrator restart with the kill time and the running sets at that
   * moment; resolves once what followed was checked (no new fault may start before: a fault of
   * its own would move streams and pass for a loss).
   */
  restarted(killedAt: number, servingAt: number, before: Map<string, Set<string>>): Promise<void>;
}

export class FaultInjector {
  readonly injected = new Map<FaultKind, number>();
  readonly outages: Outage[] = [];
  private readonly random: () => number;
  private readonly healing: Array<Promise<void>> = [];
  private readonly leaseMs: number;

  constructor(
    private readonly scenario: Scenario,
    private readonly targets: Targets,
    seed: number,
  ) {
    this.random = seededRandom(seed);
    this.leaseMs = Number(scenario.env.LEASE_TTL_MS);
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length ? items[Math.floor(this.random() * items.length)] : undefined;
  }

  private between(lo: number, hi: number): number {
    return Math.round(lo + this.random() * (hi - lo));
  }

  private draw(): FaultKind {
    const entries = Object.entries(this.scenario.faults) as Array<[FaultKind, number]>;
    const total = entries.reduce((n, [, w]) => n + w, 0);
    let r = this.random() * total;
    for (const [kind, weight] of entries) if ((r -= weight) < 0) return kind;
    return entries.at(-1)![0];
  }

  /** Injects faults for `durationMs`, then waits for every heal. */
  async run(durationMs: number): Promise<void> {
    const end = performance.now() + durationMs;
    while (performance.now() < end) {
      await sleep(this.between(200, 900));
      const kind = this.draw();
      if (EXCLUSIVE.has(kind)) await this.controlPlane(kind);
      else this.instanceFault(kind);
    }
    await Promise.all(this.healing);
  }

  private count(kind: FaultKind, detail: Record<string, unknown>): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
    this.targets.timeline.note(`fault ${kind}`, detail);
  }

  private later(ms: number, heal: () => void | Promise<void>, what: string): void {
    this.healing.push(
      sleep(ms).then(async () => {
        await heal();
        this.targets.timeline.note(`heal ${what}`);
      }),
    );
  }

  private instanceFault(kind: FaultKind): void {
    const { fleet } = this.targets;
    // At most a third of the strict instances at a time: the rest always have room for every stream.
    if (fleet.instances.filter((i) => i.faulted).length >= fleet.instances.length / 3) return;
    const target: ChaosInstance | undefined = this.pick(fleet.instances.filter((i) => !i.faulted));
    if (!target) return;
    const raw = kind === "reset" || kind === "delay" ? this.pick(fleet.raw) : undefined;
    const proxy = raw && this.random() < 0.2 ? raw.proxy : target.proxy;
    const name = proxy === target.proxy ? target.id : raw!.id;
    const hold = this.between(this.leaseMs / 2, this.leaseMs * 2);
    const release = () => {
      if (proxy === target.proxy) target.faulted = false;
    };
    if (proxy === target.proxy) target.faulted = true;
    this.count(kind, { instance: name, forMs: kind === "reset" ? 0 : hold });
    switch (kind) {
      case "blackhole":
        proxy.blackhole();
        // A path that comes back after this long has lost its connections too.
        return this.later(hold, () => (proxy.reset(), proxy.heal(), release()), `blackhole ${name}`);
      case "delay":
        proxy.delayMs = 300;
        return this.later(hold, () => ((proxy.delayMs = 0), release()), `delay ${name}`);
      case "reset":
        proxy.reset();
        return release();
      case "half-reset":
        proxy.halfReset();
        // The instance's side is reset too once the fault is over, as its keepalive would find out.
        return this.later(hold, () => (proxy.reset(), release()), `half-reset ${name}`);
      case "cut":
        proxy.cut();
        return this.later(hold, () => (proxy.heal(), release()), `cut ${name}`);
      case "stall":
        proxy.stall();
        return this.later(this.between(this.leaseMs / 4, this.leaseMs * 1.5), () => (proxy.resume(), release()), `stall ${name}`);
      case "kill":
        void target.kill();
        return this.later(hold, () => (target.revive(), release()), `kill ${name}`);
      default:
        return release();
    }
  }

  private async controlPlane(kind: FaultKind): Promise<void> {
    const { orchestrator, database, fleet, timeline, replicaFaults } = this.targets;
    const replicaFault = REPLICA_FAULTS.has(kind);
    if (replicaFault ? !replicaFaults : kind === "orchestrator-crash" ? !orchestrator : !database) return;
    // Everything else healed and balanced first, so what follows is this fault's doing.
    await Promise.all(this.healing.splice(0));
    await this.targets.quiesce();
    const outage: Outage = { from: performance.now(), to: undefined, kind };
    this.outages.push(outage);
    if (replicaFault) {
      await replicaFaults!.inject(kind as ReplicaFault, outage, (detail) => this.count(kind, detail));
      return;
    }
    if (kind === "orchestrator-crash" && orchestrator) {
      const before = new Map(fleet.instances.filter((i) => !i.dead).map((i) => [i.id, new Set(i.client?.running().keys() ?? [])]));
      this.count(kind, { pid: orchestrator.pid });
      const tookMs = await orchestrator.crashAndRestart();
      outage.to = performance.now();
      timeline.note("orchestrator serving again", { tookMs: Math.round(tookMs), pid: orchestrator.pid });
      await this.targets.restarted(outage.from, outage.to, before);
      return;
    }
    const db = database!;
    if (kind === "db-restart") {
      this.count(kind, {});
      await db.restart();
    } else if (kind === "db-stop") {
      const ms = this.between(1_000, 3_000);
      this.count(kind, { forMs: ms });
      await db.stop();
      await sleep(ms);
      await db.up();
    } else {
      const ms = this.between(2_000, 4_000);
      this.count(kind, { forMs: ms });
      db.freeze();
      await sleep(ms);
      db.thaw();
    }
    outage.to = performance.now();
    timeline.note("database up again");
  }
}
