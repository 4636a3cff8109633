import type { Clock, TimerHandle } from "../coordinator/clock.js";
import { CLOCK_RATE_TOLERANCE } from "../coordinator/lease-rule.js";
import type { Logger } from "../log/logger.js";
import { inForce, promisesOverAfterMs, type LeaseTimings } from "./lease-timings.js";

/** Who holds the leader lock, as far as the database tells. */
export interface LockHolder {
  backendPid: number;
  clientAddress: string | null;
  holder: string;
}

/** An election won: the new term, and the lease durations the leadership row held before it (undefined: none recorded). */
export interface Elected {
  term: number;
  found: LeaseTimings | undefined;
}

/** What leadership needs from the database (src/db/leader-lock.ts; a fake in tests). */
export interface LeaderLockPort {
  /**
   * Takes the lock if it is free, raises the term and records `record` as the
   * durations in force; undefined when another holds the lock.
   */
  tryLead(record: (found: LeaseTimings | undefined) => LeaseTimings): Promise<Elected | undefined>;
  /** Records `timings` as the durations in force, if `term` is still the current one. */
  recordTimings(term: number, timings: LeaseTimings): Promise<void>;
  /** The current term read on the lock's own session (taken again if the session was lost); undefined when another holds the lock. */
  confirm(): Promise<number | undefined>;
  holderOfLock(): Promise<LockHolder | undefined>;
  release(): Promise<void>;
}

/**
 * "single": one orchestrator per schema; a second one refuses to start, and
 * the one running keeps acting through a database outage (nobody else can
 * take over). "replicas": standbys wait for the lock, and a leader that cannot
 * confirm its lock within the leader lease stops acting (README, "Several replicas").
 */
export type ElectionMode = "single" | "replicas";

export interface LeadershipOptions {
  mode: ElectionMode;
  /** LEADER_LEASE_MS: how long a leader acts on its last confirmation. */
  leaseMs: number;
  /** LEASE_TTL_MS: how long the leases this process gives instances last. */
  leaseTtlMs: number;
  /** How often a standby tries the lock. */
  campaignEveryMs: number;
  /** What is led, for messages (e.g. `schema "orchestrator"`). */
  scope: string;
}

/** Why a leader stopped being one. */
export class LeadershipLost extends Error {
  override name = "LeadershipLost";
}

/** A second single orchestrator on the same schema. */
export class AlreadyLed extends Error {
  override name = "AlreadyLed";
}

export type Role = "standby" | "leader" | "stepped-down";

/**
 * This process's leadership: campaigns for the lock, then confirms it on a
 * fixed schedule and says, at any instant, whether the process may still act
 * as leader (acknowledge heartbeats, send assignments). In "replicas" mode
 * that is only while the last confirmation (counted from when it was asked)
 * is younger than the lease, less the clock-rate tolerance; a new leader
 * waits out the same lease before it moves anything (README has the chain).
 */
export class Leadership {
  private _role: Role = "standby";
  private _term = 0;
  /** Monotonic instant the last successful confirmation was asked at. */
  private confirmedAt = -Infinity;
  private timer: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  private confirming = false;
  private stopped = false;
  private readonly lostListeners: Array<(error: LeadershipLost) => void> = [];
  private recordOwn: TimerHandle | undefined;
  private _found: LeaseTimings | undefined;

  constructor(
    private readonly lock: LeaderLockPort,
    private readonly clock: Clock,
    private readonly options: LeadershipOptions,
    private readonly logger: Logger,
  ) {}

  get role(): Role {
    return this._role;
  }

  /** The term this process leads in; 0 before it won one. */
  get term(): number {
    return this._term;
  }

  /** The part of the lease a leader acts on: less than the lease by what clock rates may differ. */
  private get actingMs(): number {
    return this.options.leaseMs * (1 - CLOCK_RATE_TOLERANCE);
  }

  /** True while this process may act as the leader (synchronously, on every acknowledgement). */
  mayAct(): boolean {
    if (this._role !== "leader") return false;
    return this.options.mode === "single" || this.clock.now() < this.confirmedAt + this.actingMs;
  }

  /** This process's own durations. */
  get timings(): LeaseTimings {
    return { leaseTtlMs: this.options.leaseTtlMs, leaderLeaseMs: this.options.leaseMs };
  }

  /** The durations the leadership row held when this process was elected (undefined: none recorded, or not elected). */
  get found(): LeaseTimings | undefined {
    return this._found;
  }

  onLost(listener: (error: LeadershipLost) => void): void {
    this.lostListeners.push(listener);
  }

  /**
   * Resolves with the term once this process leads. In "single" mode it tries
   * once and rejects with AlreadyLed when another orchestrator holds the lock;
   * in "replicas" mode it tries every campaignEveryMs until it wins or stop().
   */
  async campaign(): Promise<number> {
    for (;;) {
      if (this.stopped) throw new LeadershipLost("stopped before it was elected");
      const askedAt = this.clock.now();
      const elected = await this.tryLead();
      if (elected !== undefined) return this.elected(elected, askedAt);
      if (this.options.mode === "single") {
        const holder = await this.lock.holderOfLock().catch(() => undefined);
        const who = holder ? ` (held by ${holder.holder || "backend " + holder.backendPid}${holder.clientAddress ? ` from ${holder.clientAddress}` : ""})` : "";
        throw new AlreadyLed(`another orchestrator is already running on ${this.options.scope} of this database${who}; set LEADER_ELECTION=replicas on every replica to run several`);
      }
      await new Promise<void>((resolve) => this.clock.after(this.options.campaignEveryMs, resolve));
    }
  }

  private async tryLead(): Promise<Elected | undefined> {
    try {
      return await this.lock.tryLead((found) => inForce(this.timings, found));
    } catch (error) {
      // Unreachable database: a single orchestrator cannot start without it; a standby keeps trying.
      if (this.options.mode === "single") throw error;
      this.logger.warn({ err: error }, "could not try the leader lock; trying again");
      return undefined;
    }
  }

  private elected({ term, found }: Elected, askedAt: number): number {
    this._role = "leader";
    this._term = term;
    this._found = found;
    this.confirmedAt = askedAt;
    this.armDeadline();
    this.timer = this.clock.every(Math.max(1, Math.floor(this.options.leaseMs / 4)), () => void this.confirm());
    this.scheduleOwnTimings(term, inForce(this.timings, found));
    return term;
  }

  /**
   * Once no promise of an earlier leader can be in force, the row may say this
   * process's own durations (they differ only when it found longer ones). A
   * failed write leaves the longer ones recorded: safe, only a later election waits longer.
   */
  private scheduleOwnTimings(term: number, force: LeaseTimings): void {
    const own = this.timings;
    if (force.leaseTtlMs === own.leaseTtlMs && force.leaderLeaseMs === own.leaderLeaseMs) return;
    this.recordOwn = this.clock.after(promisesOverAfterMs(force), () => {
      if (this._role !== "leader") return;
      this.lock.recordTimings(term, own).then(
        () => this.logger.info(own, "the previous leader's longer leases have all run out: this process's own are recorded"),
        (error: unknown) => this.logger.warn({ err: error }, "could not record this process's lease durations; the longer ones stay recorded"),
      );
    });
  }

  /** In "replicas" mode, leadership ends when the acting part of the lease runs out unconfirmed. */
  private armDeadline(): void {
    if (this.options.mode !== "replicas") return;
    this.clock.cancel(this.deadline);
    const left = this.confirmedAt + this.actingMs - this.clock.now();
    this.deadline = this.clock.after(Math.max(0, left), () => {
      if (!this.mayAct()) this.lose(`leadership not confirmed within LEADER_LEASE_MS (${this.options.leaseMs} ms)`);
      else this.armDeadline();
    });
  }

  private async confirm(): Promise<void> {
    if (this.confirming || this._role !== "leader") return;
    this.confirming = true;
    const askedAt = this.clock.now();
    try {
      const term = await this.lock.confirm();
      if (this._role !== "leader") return;
      if (term === undefined) return this.lose("another replica holds the leader lock");
      if (term !== this._term) return this.lose(`the leadership term moved on to ${term}`);
      this.confirmedAt = Math.max(this.confirmedAt, askedAt);
      this.armDeadline();
    } catch (error) {
      // Not confirmed: in "replicas" mode the deadline ends leadership if this lasts.
      this.logger.warn({ err: error }, "could not confirm leadership");
    } finally {
      this.confirming = false;
    }
  }

  /** The database refused a write of this term: another replica leads. */
  deposed(reason: string): void {
    if (this._role === "leader") this.lose(reason);
  }

  private lose(reason: string): void {
    if (this._role !== "leader") return;
    this._role = "stepped-down";
    this.clock.cancel(this.timer);
    this.clock.cancel(this.deadline);
    this.clock.cancel(this.recordOwn);
    const error = new LeadershipLost(`leadership of term ${this._term} lost: ${reason}`);
    this.logger.error(error.message);
    void this.lock.release();
    for (const listener of this.lostListeners) listener(error);
  }

  /** Gives up the lock (at shutdown) or a campaign under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.cancel(this.timer);
    this.clock.cancel(this.deadline);
    this.clock.cancel(this.recordOwn);
    if (this._role === "leader") this._role = "stepped-down";
    await this.lock.release();
  }
}
