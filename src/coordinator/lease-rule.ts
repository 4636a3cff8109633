/**
 * When a silent or disconnected instance's streams may move: the one place
 * that decides it, because "one owner per stream" rests on it. README, "Why a
 * stream never runs on two strict instances", gives the argument; in short:
 *
 * A strict client stops its streams at `sent + leaseTtl` (counted from when it
 * sent the last heartbeat the server acknowledged, on its monotonic clock),
 * connected or not (a break it sees does not make it stop sooner). The server renews the
 * lease on receiving a message, which is later than it was sent, so
 * `lastSeen + leaseTtl` here is never earlier than the client's end, given
 * equal clock rates. The margin covers clock rates that differ, and a client
 * timer that fires a little late. A broken connection (seen here) may not be
 * seen by the client (a proxy resets one side, or one direction is black-holed),
 * so the grace alone never lets streams move before the lease is over.
 */

/** How far each side's monotonic clock may run fast or slow: 1,000 ppm, twenty times a poor quartz crystal's. */
export const CLOCK_RATE_TOLERANCE = 0.001;
/** How late a client's lease timer may fire (a busy event loop) for its stop to count as on time. */
export const CLIENT_TIMER_SLACK_MS = 100;

/**
 * What the server adds to a lease before moving its streams: with both clocks off by the
 * tolerance in opposite directions, (L + m)(1 - r) must exceed L(1 + r) + slack, which
 * 3rL + slack does for any lease above the slack (README has the arithmetic).
 */
export function leaseMarginMs(leaseTtlMs: number): number {
  return Math.ceil(3 * CLOCK_RATE_TOLERANCE * leaseTtlMs) + CLIENT_TIMER_SLACK_MS;
}

export interface LeaseTerms {
  leaseTtlMs: number;
  reconnectGraceMs: number;
}

/** A connected instance last heard from at `lastSeen` has lost its lease at this time. */
export function leaseEnd(lastSeen: number, terms: LeaseTerms): number {
  return lastSeen + terms.leaseTtlMs + leaseMarginMs(terms.leaseTtlMs);
}

/**
 * A session that broke at `now`: the instance keeps its streams for the grace
 * (time to reconnect), and in any case until its lease is over, which a strict
 * client honours whether or not it saw the break.
 */
export function disconnectedUntil(now: number, lastSeen: number, terms: LeaseTerms): number {
  return Math.max(now + terms.reconnectGraceMs, leaseEnd(lastSeen, terms));
}

/**
 * After an orchestrator restart, an instance that owned streams may have been
 * renewed up to the moment the previous process stopped, which was before
 * `now`; and the previous process may have promised every instance a longer
 * lease in its go_away (`promisedMs`, counted by the instance from a moment
 * before that go_away was sent, so before `now` too).
 */
export function restoredUntil(now: number, terms: LeaseTerms, promisedMs = 0): number {
  // The same end as a lease renewed at `now`, with the longer of the two promises as its length.
  return leaseEnd(now, { ...terms, leaseTtlMs: Math.max(terms.leaseTtlMs, promisedMs) });
}
