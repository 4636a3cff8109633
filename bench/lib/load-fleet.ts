/**
 * A fleet of load instances (bench/lib/load-instance.ts): connecting them,
 * who runs what from their side, and round trips inside a window.
 */
import type { LeaderFollower } from "./leader-follower.js";
import { Channels, LoadInstance, type LoadInstanceHooks } from "./load-instance.js";
import { pollUntil, sleep } from "../../test/helpers/wait.js";

/** Many load instances and what they run. */
export class LoadFleet {
  readonly instances: LoadInstance[] = [];
  readonly hooks: LoadInstanceHooks = {};
  /** performance.now() of the last assignment any instance applied. */
  lastAssignmentAt = 0;
  assignmentsApplied = 0;
  sessionsLost = 0;
  private readonly userHooks: LoadInstanceHooks = {};

  /** `follower`: instances connect through it and go back to a leader when a session ends (several replicas). */
  constructor(
    readonly channels: Channels,
    readonly follower?: LeaderFollower,
  ) {
    // The fleet's own bookkeeping runs first, then whatever the scenario set in `on`.
    this.hooks.assignment = (i, c) => {
      this.lastAssignmentAt = c.at;
      this.assignmentsApplied++;
      this.userHooks.assignment?.(i, c);
    };
    this.hooks.heartbeatAck = (i, rtt, at) => this.userHooks.heartbeatAck?.(i, rtt, at);
    this.hooks.ended = (i, reason) => {
      this.sessionsLost++;
      this.userHooks.ended?.(i, reason);
      this.follower?.lost(i);
    };
  }

  /** Sets the scenario's handlers (replacing earlier ones). */
  on(hooks: LoadInstanceHooks): void {
    this.userHooks.assignment = hooks.assignment;
    this.userHooks.heartbeatAck = hooks.heartbeatAck;
    this.userHooks.ended = hooks.ended;
  }

  add(id: string, capacity: number, dedicated = false): LoadInstance {
    const client = dedicated ? this.channels.dedicated() : this.channels.next();
    const instance = new LoadInstance(id, capacity, client, this.hooks, dedicated || this.channels.perChannel <= 1, this.channels.metadata);
    this.instances.push(instance);
    return instance;
  }

  /**
   * Connects instances with at most `batch` hellos in flight, starting the next
   * one as each is welcome, so a hello storm does not dominate what comes after
   * and connections (with their keepalive timers) are spread in time instead of
   * landing in lockstep bursts. `welcomed` runs for each instance as soon as it
   * is welcome (start its heartbeats there: a ramp may last longer than a lease).
   * @returns connections per second over the whole ramp.
   */
  async connectAll(
    list: LoadInstance[],
    batch: number,
    welcomed?: (instance: LoadInstance) => void,
  ): Promise<{ ms: number; perSecond: number }> {
    const started = performance.now();
    const queue = list.values();
    const lane = async () => {
      for (const inst of queue) {
        await (this.follower ? this.follower.connect(inst) : inst.connect());
        welcomed?.(inst);
      }
    };
    await Promise.all(Array.from({ length: Math.min(batch, list.length) }, lane));
    const elapsed = performance.now() - started;
    return { ms: elapsed, perSecond: (list.length / elapsed) * 1000 };
  }

  /** Who runs each stream, from the instances' side; a stream run twice is reported in `duplicates`. */
  owners(): { owner: Map<string, LoadInstance>; duplicates: string[] } {
    const owner = new Map<string, LoadInstance>();
    const duplicates: string[] = [];
    for (const inst of this.instances) {
      if (inst.state !== "ready") continue;
      for (const id of inst.owned.keys()) {
        if (owner.has(id)) duplicates.push(id);
        else owner.set(id, inst);
      }
    }
    return { owner, duplicates };
  }

  /** Streams held by ready instances, and the spread of their counts. */
  balance(among: LoadInstance[] = this.instances): { total: number; min: number; max: number } {
    let total = 0;
    let min = Infinity;
    let max = 0;
    for (const inst of among) {
      if (inst.state !== "ready") continue;
      const n = inst.owned.size;
      total += n;
      min = Math.min(min, n);
      max = Math.max(max, n);
    }
    return { total, min: min === Infinity ? 0 : min, max };
  }

  /** Resolves once no instance applied an assignment for `quietMs` (false after `timeoutMs`). */
  async quiet(quietMs: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const idle = performance.now() - this.lastAssignmentAt;
      if (idle >= quietMs) return true;
      await sleep(Math.max(10, quietMs - idle));
    }
    return false;
  }

  /**
   * Resolves once every heartbeat sent up to `at` (the end of a measured window)
   * has its ack, or after `timeoutMs`: an ack later than that is not waited for.
   */
  async answered(at: number, timeoutMs: number): Promise<void> {
    await pollUntil(() => !this.instances.some((i) => i.awaitsAckSentBefore(at)), timeoutMs);
  }

  /** Every connected instance says leave (its streams move at once, no grace), then the channels close. */
  async leaveAll(settleMs = 200): Promise<void> {
    for (const inst of this.instances) if (inst.state === "ready") inst.leave();
    await sleep(settleMs);
    this.close();
  }

  close(): void {
    this.follower?.stop();
    for (const inst of this.instances) inst.stopHeartbeats();
    this.channels.closeAll();
  }
}

/** Round trips of the heartbeats a fleet sends inside a window, whenever their ack arrives. */
export class RoundTripWindow {
  readonly rtts: number[] = [];
  private start = Number.POSITIVE_INFINITY;
  private end = Number.POSITIVE_INFINITY;

  /** Takes over the fleet's heartbeat_ack handler. */
  constructor(fleet: LoadFleet) {
    fleet.on({
      heartbeatAck: (_i, rtt, at) => {
        const sentAt = at - rtt;
        if (sentAt >= this.start && sentAt <= this.end) this.rtts.push(rtt);
      },
    });
  }

  open(at = performance.now()): void {
    this.start = at;
  }

  close(at = performance.now()): void {
    this.end = at;
  }
}
