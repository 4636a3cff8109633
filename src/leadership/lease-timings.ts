/**
 * The lease durations a leader makes promises with, and what a new leader owes
 * the promises of the one before it. Every timing argument of a takeover (README,
 * "Several replicas") assumes that the new leader knows how long the old one's
 * promises last: instance leases of LEASE_TTL_MS from each acknowledged
 * heartbeat, and its own acting for up to LEADER_LEASE_MS after its last
 * confirmation. A replica or a restarted process configured shorter than its
 * predecessor (a half-finished configuration change, one replica forgotten)
 * would count from its own, shorter values and could move a stream that a
 * strict instance is still entitled to run. So each election records the
 * durations in force in the leadership row: the longer of the new leader's and
 * what it found there; once every earlier promise has run out, the leader
 * writes its own (an operator's shortened lease then takes effect at the
 * next election after that).
 */
import { leaseMarginMs } from "../coordinator/lease-rule.js";

export interface LeaseTimings {
  /** LEASE_TTL_MS: how long an acknowledged heartbeat lets an instance run its streams. */
  leaseTtlMs: number;
  /** LEADER_LEASE_MS: how long a leader acts on its last confirmation. */
  leaderLeaseMs: number;
}

/** Each duration the longer of the two: what may still be promised after an election (`found` undefined: nothing recorded). */
export function inForce(own: LeaseTimings, found: LeaseTimings | undefined): LeaseTimings {
  if (!found) return own;
  return { leaseTtlMs: Math.max(own.leaseTtlMs, found.leaseTtlMs), leaderLeaseMs: Math.max(own.leaderLeaseMs, found.leaderLeaseMs) };
}

/**
 * How much longer than after a restart a new leader keeps the streams of an
 * instance that has not reconnected to it: the old leader may have gone on
 * acknowledging heartbeats for up to one leader lease after the lock passed
 * (it acts on its last confirmation), each giving a full lease from then.
 */
export function takeoverWaitMs(leaderLeaseMs: number): number {
  return leaderLeaseMs + leaseMarginMs(leaderLeaseMs);
}

/**
 * What the coordinator adds to its own lease for the instances it loads at an
 * election: in "replicas" mode the takeover wait of the longest leader lease in
 * force, and in either mode the part by which a lease in force outlasts its own.
 */
export function inheritedWaitMs(own: LeaseTimings, force: LeaseTimings, replicas: boolean): number {
  const longerLease = Math.max(0, force.leaseTtlMs + leaseMarginMs(force.leaseTtlMs) - (own.leaseTtlMs + leaseMarginMs(own.leaseTtlMs)));
  return (replicas ? takeoverWaitMs(Math.max(own.leaderLeaseMs, force.leaderLeaseMs)) : 0) + longerLease;
}

/**
 * From an election, when no promise of an earlier leader can be in force any
 * more: its acting ended within a leader lease (and margin), and the last lease
 * it acknowledged within a lease (and margin) after that.
 */
export function promisesOverAfterMs(force: LeaseTimings): number {
  return takeoverWaitMs(force.leaderLeaseMs) + force.leaseTtlMs + leaseMarginMs(force.leaseTtlMs);
}

/** A line for the log when the predecessor's durations were longer than this process's; undefined when none was. */
export function longerPredecessor(own: LeaseTimings, found: LeaseTimings | undefined): string | undefined {
  if (!found) return undefined;
  const longer: string[] = [];
  if (found.leaseTtlMs > own.leaseTtlMs) longer.push(`LEASE_TTL_MS=${found.leaseTtlMs} (this one ${own.leaseTtlMs})`);
  if (found.leaderLeaseMs > own.leaderLeaseMs) longer.push(`LEADER_LEASE_MS=${found.leaderLeaseMs} (this one ${own.leaderLeaseMs})`);
  if (!longer.length) return undefined;
  return `the previous leader may have promised longer leases: ${longer.join(", ")}; honouring them for the instances it had, then using this process's own; give every replica the same values`;
}
