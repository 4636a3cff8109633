import type { ElectionMode, Role } from "./leadership.js";

/** What this replica knows of the leadership, for probes, status, metrics and standby answers. */
export interface ReplicaView {
  readonly mode: ElectionMode;
  readonly role: Role;
  /** The current term as far as this replica knows (its own while it leads). */
  readonly term: number;
  /** The leader's advertised address ("" when unknown). */
  readonly leaderAddress: string;
  /** This replica's own advertised address (ADVERTISE_ADDRESS). */
  readonly advertiseAddress: string;
}

/**
 * The replica's role and the leader it last heard of. The app sets it: on
 * election and loss from Leadership, and while standing by from the
 * leadership row it reads now and then.
 */
export class ReplicaStatus implements ReplicaView {
  role: Role = "standby";
  term = 0;
  leaderAddress = "";

  constructor(
    readonly mode: ElectionMode,
    readonly advertiseAddress: string,
  ) {}

  /** This replica leads `term`. */
  leading(term: number): void {
    this.role = "leader";
    this.term = term;
    this.leaderAddress = this.advertiseAddress;
  }

  /** What the leadership row says while this replica does not lead. */
  heardOf(term: number, leaderAddress: string): void {
    if (this.role === "leader") return;
    this.term = term;
    // Our own address in the row means the last leader was this replica's previous run: no hint.
    this.leaderAddress = leaderAddress === this.advertiseAddress ? "" : leaderAddress;
  }

  steppedDown(): void {
    this.role = "stepped-down";
    this.leaderAddress = "";
  }

  /** For the errors a standby answers with. */
  describeLeader(): string {
    return this.leaderAddress ? `the leader is at ${this.leaderAddress} (term ${this.term})` : "no leader is known yet; try another replica";
  }
}
