/** What the orchestrator says about this run of itself: version, start (wall clock, for people) and uptime (monotonic). */
export interface About {
  readonly version: string;
  readonly startedAt: Date;
  /** Seconds since start, measured on the monotonic clock: a wall-clock step does not change it. */
  uptimeSeconds(): number;
}

/** The About of a run starting now. */
export function aboutThisRun(version: string): About {
  const started = performance.now();
  return { version, startedAt: new Date(), uptimeSeconds: () => (performance.now() - started) / 1000 };
}
