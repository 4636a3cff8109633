import { sql } from "kysely";
import type { Logger } from "../log/logger.js";
import type { Db } from "./database.js";

const DAY_MS = 86_400_000;

/**
 * Deletes up to `batch` audit events older than `before` (oldest first).
 * Small batches keep each statement short, so pruning never holds locks or
 * the statement timeout long, however much a year of churn left behind.
 * @returns how many rows went.
 */
export async function pruneEventsBatch(db: Db, before: Date, batch: number): Promise<number> {
  const result = await sql`
    delete from events where id in (select id from events where at < ${before} order by at limit ${batch})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Options of {@link EventsPruner}. */
export interface PrunerOptions {
  retentionDays: number;
  /** Rows per statement. */
  batch?: number;
  /** How often to look for events past their retention. */
  everyMs?: number;
}

/**
 * Keeps the audit log within its retention (`EVENTS_RETENTION_DAYS`): at
 * start and then every hour, deletes what is older, batch after batch, with a
 * pause between batches so the event loop and the database serve others.
 */
export class EventsPruner {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly options: PrunerOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.options.retentionDays <= 0) return;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One full pass: every batch until none is left. @returns rows deleted. */
  async pruneNow(now = Date.now()): Promise<number> {
    const before = new Date(now - this.options.retentionDays * DAY_MS);
    const batch = this.options.batch ?? 1_000;
    let total = 0;
    for (;;) {
      const deleted = await pruneEventsBatch(this.db, before, batch);
      total += deleted;
      if (deleted < batch || this.stopped) return total;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pruneNow()
        .then((deleted) => {
          if (deleted) this.logger.info({ deleted, retentionDays: this.options.retentionDays }, "pruned old audit events");
        })
        .catch((error: unknown) => this.logger.warn({ err: error }, "pruning old audit events failed; will retry"))
        .finally(() => this.schedule(this.options.everyMs ?? 3_600_000));
    }, ms);
    this.timer.unref();
  }
}
