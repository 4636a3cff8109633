import type { Clock, TimerHandle } from "../../src/coordinator/clock.js";

interface Timer {
  id: number;
  at: number;
  every?: number;
  fn: () => void;
}

/**
 * A clock that moves only when a test says so: `advance(ms)` runs every timer
 * that falls due, in order, each at its own time. The wall clock can be
 * stepped apart from the monotonic one, as NTP or `date -s` would.
 */
export class ManualClock implements Clock {
  private mono = 1_000_000;
  private wallOffset = Date.parse("2026-11-26T00:00:00.000Z") - 1_000_000;
  private timers: Timer[] = [];
  private nextId = 1;

  now(): number {
    return this.mono;
  }

  wallNow(): number {
    return this.mono + this.wallOffset;
  }

  after(ms: number, fn: () => void): TimerHandle {
    return this.add({ id: this.nextId++, at: this.mono + Math.max(1, ms), fn });
  }

  every(ms: number, fn: () => void): TimerHandle {
    return this.add({ id: this.nextId++, at: this.mono + ms, every: ms, fn });
  }

  cancel(timer: TimerHandle | undefined): void {
    if (timer) this.timers = this.timers.filter((t) => t.id !== timer.id);
  }

  /** Steps the wall clock only (forward or back); monotonic time and timers are untouched. */
  stepWall(ms: number): void {
    this.wallOffset += ms;
  }

  /** Monotonic time of the next timer due, or Infinity. */
  nextDue(): number {
    return this.timers.reduce((min, t) => Math.min(min, t.at), Number.POSITIVE_INFINITY);
  }

  /** Moves time to `to` (not past the next timer) and runs the timers due then. */
  runUntil(to: number): void {
    this.mono = Math.max(this.mono, Math.min(to, this.nextDue()));
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.mono).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) return;
      if (due.every) due.at += due.every;
      else this.cancel(due);
      due.fn();
    }
  }

  /** Moves time by `ms`, running every timer due on the way, without waiting for anything they start. */
  runFor(ms: number): void {
    const to = this.mono + ms;
    while (this.mono < to) this.runUntil(to);
  }

  private add(timer: Timer): TimerHandle {
    this.timers.push(timer);
    return { id: timer.id };
  }
}
