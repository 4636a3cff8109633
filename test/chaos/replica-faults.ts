/**
 * The faults of a run with several replicas, each on the leader: SIGKILL,
 * SIGSTOP for longer than its leader lease (then SIGCONT), and a cut between it
 * and PostgreSQL only (connections reset, or left open and silent) for longer
 * than its lease. Each hits a quiet fleet, a rebalance under way (an instance
 * drained empty, then undrained) or a drain under way. On a quiet fleet nothing
 * may move: instances that kept their lease still run what they ran, and the
 * database records no grant from the fault until every takeover wait is over.
 */
import { sleep, pollUntil } from "../helpers/wait.js";
import { AdminClient } from "../helpers/admin-client.js";
import type { ChaosFleet, ChaosInstance } from "./chaos-fleet.js";
import { takeoverOverMs, type ChaosReplica, type ChaosReplicas } from "./chaos-replicas.js";
import type { DatabaseAudit } from "./database-audit.js";
import type { Outage } from "./fault-injector.js";
import type { Invariants } from "./invariants.js";
import type { Timeline } from "./timeline.js";

export type ReplicaFault = "leader-kill" | "leader-pause" | "leader-db-cut";
type Context = "quiet" | "rebalance" | "drain";

export interface ReplicaTargets {
  replicas: ChaosReplicas;
  fleet: ChaosFleet;
  timeline: Timeline;
  audit: DatabaseAudit;
  checks: () => Invariants;
}

export class ReplicaFaults {
  constructor(
    private readonly targets: ReplicaTargets,
    private readonly leaseMs: number,
    private readonly leaderLeaseMs: number,
    private readonly random: () => number,
  ) {}

  private between(lo: number, hi: number): number {
    return Math.round(lo + this.random() * (hi - lo));
  }

  /** Admin calls go to the leader, as an operator's would. */
  private async onLeader<T>(call: (admin: AdminClient) => Promise<T>): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt < 40; attempt++) {
      const leader = await this.targets.replicas.waitForLeader(undefined, 10_000);
      const admin = new AdminClient(leader.grpcAddress);
      try {
        return await call(admin);
      } catch (error) {
        last = error; // a standby's or a stepping-down leader's UNAVAILABLE: ask again
        await sleep(250);
      } finally {
        admin.close();
      }
    }
    throw last;
  }

  async inject(kind: ReplicaFault, outage: Outage, count: (detail: Record<string, unknown>) => void): Promise<void> {
    const { replicas, fleet, timeline, audit } = this.targets;
    const leader = await replicas.waitForLeader(undefined, 10_000);
    const context: Context = (["quiet", "quiet", "rebalance", "drain"] as const)[Math.floor(this.random() * 4)]!;
    const candidates = fleet.instances.filter((i) => !i.dead && i.running() > 0);
    const target: ChaosInstance | undefined = context === "quiet" ? undefined : candidates[Math.floor(this.random() * candidates.length)];
    if (target) {
      await this.onLeader((a) => a.drain(target.id));
      if (context === "rebalance") {
        await pollUntil(() => target.running() === 0, 10_000, 50);
        await this.onLeader((a) => a.undrain(target.id));
        await sleep(this.between(0, 200));
      }
    }
    const before = new Map(fleet.instances.filter((i) => !i.dead).map((i) => [i.id, new Set(i.client?.running().keys() ?? [])]));
    const faultAt = new Date();
    outage.from = performance.now();
    const hold = this.leaderLeaseMs + this.between(300, 1_500);
    count({ replica: leader.name, context, instance: target?.id, forMs: kind === "leader-kill" ? 0 : hold });

    // Another replica may lead while the fault still lasts (a paused or cut-off leader loses its lock after its lease).
    const next = replicas.waitForLeader(leader, 20_000).then((r) => ({ replica: r, at: performance.now() }));
    next.catch(() => undefined); // awaited below; a rejection meanwhile is not unhandled
    if (kind === "leader-kill") {
      await replicas.kill(leader);
    } else if (kind === "leader-pause") {
      leader.paused = true;
      leader.signal("SIGSTOP");
      await sleep(hold);
      leader.signal("SIGCONT");
      leader.paused = false;
      timeline.note("replica resumed", { replica: leader.name });
    } else {
      const silent = this.random() < 0.5;
      leader.cutFromDatabase = true;
      if (silent) leader.databaseProxy.blackhole();
      else leader.databaseProxy.cut();
      await sleep(hold);
      leader.databaseProxy.reset();
      leader.databaseProxy.heal();
      timeline.note("replica reaches the database again", { replica: leader.name, silent });
      // A start-up that was under way on the cut path fails as the dead connections are reset.
      setTimeout(() => (leader.cutFromDatabase = false), 3_000);
    }
    const led = await next;
    outage.to = led.at;
    replicas.restartsMs.push(outage.to - outage.from);
    timeline.note("new leader serving", { replica: led.replica.name, tookMs: Math.round(outage.to - outage.from) });

    // The deposed leader (paused, or cut off) must not go on leading once it runs again.
    if (kind !== "leader-kill" && !(await pollUntil(async () => (await leader.readyz())?.role !== "leader", 5_000, 50))) {
      timeline.violation("a deposed leader went on leading", { replica: leader.name });
    }
    if (context === "quiet") {
      await this.targets.checks().orchestratorRestarted(outage.from, outage.to, before);
      // Every stream of an owner that did not come back may move once the takeover wait is
      // over; before that, nothing may.
      await sleep(Math.max(0, outage.from + takeoverOverMs({ leaseMs: this.leaseMs, leaderLeaseMs: this.leaderLeaseMs }) + 1_000 - performance.now()));
      const moved = await audit.grantsSince(faultAt);
      timeline.note("takeover moves", { moved });
      if (moved > 0) timeline.violation("streams moved by a takeover", { moved, kind });
    } else if (context === "drain") {
      await this.onLeader((a) => a.undrain(target!.id));
    }
  }
}
