/** A timer started through a {@link Clock}; cancel it with `clock.cancel`. */
export type TimerHandle = { readonly id: unknown };

/**
 * Where the coordinator gets its time from. Two clocks, because they answer
 * different questions: `now()` is monotonic and measures durations (leases,
 * grace, suspects, freeze length, rate limits), so a wall-clock step (NTP
 * correcting a VM after a pause, `date -s`) can neither expire nor extend
 * anything; `wallNow()` is only for timestamps people read or that are
 * persisted. Timers run on the monotonic clock too, and tests replace the
 * whole thing with a clock they advance by hand.
 */
export interface Clock {
  /** Monotonic milliseconds from an arbitrary origin: only differences mean anything. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch. */
  wallNow(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  after(ms: number, fn: () => void): TimerHandle;
  /** Runs `fn` every `ms` milliseconds until cancelled. */
  every(ms: number, fn: () => void): TimerHandle;
  cancel(timer: TimerHandle | undefined): void;
}

/** The process's clocks: performance.now() and Date.now(); node's timers are monotonic already. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  after: (ms, fn) => ({ id: setTimeout(fn, ms) }),
  every: (ms, fn) => ({ id: setInterval(fn, ms) }),
  cancel: (timer) => {
    if (timer) clearTimeout(timer.id as NodeJS.Timeout);
  },
};

/** The wall-clock time at which the monotonic instant `at` happened (or will happen), as people read it. */
export function wallTimeOf(clock: Clock, at: number): Date {
  return new Date(clock.wallNow() - (clock.now() - at));
}

/** The monotonic instant of a persisted wall-clock time, as seen from now. */
export function monotonicOf(clock: Clock, wall: number): number {
  return clock.now() + (wall - clock.wallNow());
}
