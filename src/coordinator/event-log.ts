import { EventEmitter } from "node:events";
import type { AuditEvent } from "./types.js";

/** An audit event with its place in this process's sequence. */
export interface LoggedEvent extends AuditEvent {
  seq: number;
}

/**
 * Recent events in memory, numbered, for WatchEvents: watchers replay from
 * here and then follow live, so nothing falls between history and live.
 */
export class EventLog extends EventEmitter<{ event: [LoggedEvent]; end: [string] }> {
  private readonly ring: LoggedEvent[] = [];
  private seq = 0;
  /** Why no more events will come (a shutdown, a lost leadership), once that is so. */
  endedWith: string | undefined;

  constructor(private readonly capacity = 1_000) {
    super();
    // Every WatchEvents call listens; a busy operator team is not a leak.
    this.setMaxListeners(0);
  }

  append(event: AuditEvent): LoggedEvent {
    const logged = { ...event, seq: ++this.seq };
    this.ring.push(logged);
    if (this.ring.length > this.capacity) this.ring.shift();
    this.emit("event", logged);
    return logged;
  }

  /**
   * No more events will come from this process: its watchers are told why and
   * their calls end, rather than staying open until the server is forced shut.
   */
  end(reason: string): void {
    if (this.endedWith !== undefined) return;
    this.endedWith = reason;
    this.emit("end", reason);
  }

  /** The last `count` events (oldest first) that pass `filter`. */
  recent(count: number, filter: (e: LoggedEvent) => boolean = () => true): LoggedEvent[] {
    const out: LoggedEvent[] = [];
    for (let i = this.ring.length - 1; i >= 0 && out.length < count; i--) {
      const e = this.ring[i]!;
      if (filter(e)) out.push(e);
    }
    return out.reverse();
  }
}

/** Counts stream moves in a sliding minute. */
export class MoveCounter {
  private readonly buckets: Array<{ at: number; count: number }> = [];

  add(count: number, now: number): void {
    if (count > 0) this.buckets.push({ at: now, count });
  }

  lastMinute(now: number): number {
    while (this.buckets.length && now - this.buckets[0]!.at > 60_000) this.buckets.shift();
    return this.buckets.reduce((sum, b) => sum + b.count, 0);
  }
}
