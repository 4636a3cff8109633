/**
 * What happened during a chaos run, in order, on one monotonic clock: faults,
 * heals, orchestrator and database states, slow admin calls, the orchestrator's
 * own events and every violation. A failed run writes it out as JSON.
 */
export interface TimelineEntry {
  /** Milliseconds since the run started. */
  at: number;
  kind: string;
  detail?: Record<string, unknown>;
}

export class Timeline {
  readonly entries: TimelineEntry[] = [];
  readonly violations: TimelineEntry[] = [];
  readonly startedAt = performance.now();

  since(at: number = performance.now()): number {
    return Math.round(at - this.startedAt);
  }

  note(kind: string, detail?: Record<string, unknown>): void {
    this.entries.push({ at: this.since(), kind, detail });
  }

  violation(kind: string, detail: Record<string, unknown>): void {
    const entry = { at: this.since(), kind, detail };
    this.violations.push(entry);
    this.entries.push({ ...entry, kind: `VIOLATION ${kind}` });
  }
}
