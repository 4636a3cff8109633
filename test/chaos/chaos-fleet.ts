/**
 * The instances of a chaos run: strict TypeScript clients in this process, each
 * behind a fault proxy of its own, and a few raw sessions (hand-driven Connect
 * streams that ack and heartbeat, and reconnect with what they hold). Every
 * start and stop of a strict instance goes to one run log, on one clock.
 */
import type { InstanceClient } from "../../src/client/index.js";
import { ledgerClient, StreamRunLog } from "../helpers/fleet-of-clients.js";
import { RawSession } from "../helpers/raw-session.js";
import { ProxyGroup } from "./proxy-group.js";

export class ChaosInstance {
  client: InstanceClient | undefined;
  /** Killed: no process, nothing runs, nothing is sent. */
  dead = false;
  /** Busy with a fault (or dead): the scheduler picks another. */
  faulted = false;

  /** When it stopped everything because its lease (or grace) ran out. */
  readonly leaseLostAt: number[] = [];

  constructor(
    readonly id: string,
    readonly capacity: number,
    readonly proxy: ProxyGroup,
    private readonly runs: StreamRunLog,
  ) {}

  start(): void {
    this.dead = false;
    const client = ledgerClient(this.runs, this.proxy.address, this.id, this.capacity, { strict: true });
    this.client = client;
    // The run's own faults produce errors by design; they are in the timeline, not on stderr.
    client.on("error", () => undefined);
    client.on("leaseLost", () => this.leaseLostAt.push(performance.now()));
    client.start();
  }

  /** Lost its lease between `from` and `to` (monotonic). */
  lostLeaseBetween(from: number, to: number): boolean {
    return this.leaseLostAt.some((t) => t >= from && t <= to);
  }

  /** As if the process died: its network goes, its streams stop at once, it never speaks again. */
  async kill(): Promise<void> {
    this.dead = true;
    this.proxy.cut();
    const client = this.client;
    this.client = undefined;
    await client?.close("killed");
  }

  /** A new process with the same id, holding nothing. */
  revive(): void {
    this.proxy.heal();
    this.start();
  }

  running(): number {
    return this.client?.running().size ?? 0;
  }
}

/** A raw session that keeps coming back through its proxy with what it holds (not strict: it is not in the run log). */
export class RawInstance {
  session: RawSession | undefined;
  private stopped = false;
  private stopBeats: (() => void) | undefined;
  private held = new Map<string, number>();
  /** Which of the replicas' addresses to dial next, and a leader named by a go_away. */
  private next = 0;
  private hint: string | undefined;

  constructor(
    readonly id: string,
    readonly capacity: number,
    readonly proxy: ProxyGroup,
    private readonly heartbeatMs: number,
  ) {}

  start(): void {
    if (this.stopped) return;
    const addresses = this.proxy.addresses;
    const session = new RawSession(this.hint ?? addresses[this.next % addresses.length]!).autoAck();
    this.hint = undefined;
    this.session = session;
    session.hello({ instanceId: this.id, capacity: this.capacity, held: [...this.held].map(([streamId, epoch]) => ({ streamId, epoch })) });
    this.stopBeats = session.heartbeatEvery(this.heartbeatMs);
    void session.ended.then(() => {
      this.stopBeats?.();
      // A session refused before its full set knows nothing new: keep what was held.
      if (session.assignments().length) this.held = session.owned();
      else this.next++; // refused (a standby, a replica that is down): the next replica
      // A go_away naming the leader (a standby's) is followed once, as the real clients do.
      const goAway = session.received.map((m) => (m.msg?.$case === "goAway" ? m.msg.value : undefined)).find((g) => g?.leaderAddress);
      this.hint = goAway?.leaderAddress;
      session.client.close();
      if (this.session === session) setTimeout(() => this.start(), 200);
    });
  }

  owned(): number {
    return this.session?.owned().size ?? 0;
  }

  close(): void {
    this.stopped = true;
    this.stopBeats?.();
    this.session?.close();
  }
}

export interface FleetSpec {
  strict: number;
  raw: number;
  capacity: number;
  heartbeatMs: number;
}

export class ChaosFleet {
  readonly runs = new StreamRunLog();
  readonly instances: ChaosInstance[] = [];
  readonly raw: RawInstance[] = [];

  private constructor(readonly spec: FleetSpec) {}

  /** Every instance gets a path to each of `addresses` (the orchestrator, or each replica). */
  static async start(addresses: readonly string[], spec: FleetSpec): Promise<ChaosFleet> {
    const fleet = new ChaosFleet(spec);
    for (let i = 0; i < spec.strict; i++) {
      const instance = new ChaosInstance(`strict-${String(i).padStart(2, "0")}`, spec.capacity, await ProxyGroup.start(addresses), fleet.runs);
      fleet.instances.push(instance);
      instance.start();
    }
    for (let i = 0; i < spec.raw; i++) {
      const instance = new RawInstance(`raw-${i}`, spec.capacity, await ProxyGroup.start(addresses), spec.heartbeatMs);
      fleet.raw.push(instance);
      instance.start();
    }
    return fleet;
  }

  /** Streams running on strict instances plus streams raw sessions were told to run. */
  placed(): number {
    return this.runs.runningOn.size + this.raw.reduce((n, r) => n + r.owned(), 0);
  }

  /** Running counts of every live instance (strict and raw), for the balance check. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const i of this.instances) if (!i.dead) counts.set(i.id, i.running());
    for (const r of this.raw) counts.set(r.id, r.owned());
    return counts;
  }

  healAll(): void {
    for (const i of this.instances) {
      i.proxy.heal();
      if (i.dead) i.revive();
      i.faulted = false;
    }
    for (const r of this.raw) r.proxy.heal();
  }

  async close(): Promise<void> {
    for (const r of this.raw) r.close();
    await Promise.all(this.instances.map((i) => i.client?.close()));
    await Promise.all([...this.instances, ...this.raw].map((i) => i.proxy.close()));
  }
}
