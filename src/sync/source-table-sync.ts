import { rowStreamId, rowToSpec } from "../catalog/import-file.js";
import type { Coordinator } from "../coordinator/coordinator.js";
import type { Db } from "../db/database.js";
import { applySourceRows, readSourceTable, type SyncOutcome } from "../db/source-table-repository.js";
import type { StreamInput } from "../db/streams-repository.js";
import { FieldError } from "../domain/field-error.js";
import type { Logger } from "../log/logger.js";

/** Cell values as the import rules expect them: dates and JSON become text. */
function plainValues(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value instanceof Date) out[key] = value.toISOString();
    else if (value !== null && typeof value === "object") out[key] = JSON.stringify(value);
    else out[key] = value;
  }
  return out;
}

/**
 * Follows the users' existing streams table (STREAMS_SOURCE_TABLE): every
 * interval it reads the table, shapes rows exactly as `streams:import` does,
 * and brings the table-sourced catalog in line. A bad row is skipped and
 * reported once, never allowed to stop the rest.
 */
export class SourceTableSync {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;
  private readonly reported = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly table: string,
    private readonly intervalMs: number,
    private readonly coordinator: Coordinator,
    private readonly logger: Logger,
  ) {}

  /** Runs a first pass now, then one every interval (never two at once). */
  async start(): Promise<void> {
    await this.pass();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => this.schedule());
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; errors are logged and the next pass tries again. */
  async pass(): Promise<SyncOutcome | undefined> {
    try {
      const outcome = await this.syncOnce();
      const changed = [...outcome.created, ...outcome.updated, ...outcome.deleted];
      if (changed.length) {
        this.logger.info({ table: this.table, created: outcome.created.length, updated: outcome.updated.length, deleted: outcome.deleted.length }, "source table synced");
        await this.coordinator.catalogChanged(changed);
      }
      return outcome;
    } catch (error) {
      this.logger.error({ err: error, table: this.table }, "source table sync failed; will retry");
      return undefined;
    }
  }

  private async syncOnce(): Promise<SyncOutcome> {
    const rows = await readSourceTable(this.db, this.table);
    const streams: StreamInput[] = [];
    const seen = new Set<string>();
    // Ids of rows that are there but invalid right now: keep what the catalog has for them.
    const keep: string[] = [];
    rows.forEach((row, i) => {
      const values = plainValues(row);
      try {
        const spec = rowToSpec(values, i);
        if (seen.has(spec.id)) throw new FieldError("id", `duplicate id ${JSON.stringify(spec.id)}`);
        seen.add(spec.id);
        streams.push({ id: spec.id, url: spec.url, name: spec.name, metadata: spec.metadata, enabled: spec.enabled });
      } catch (error) {
        if (!(error instanceof FieldError)) throw error;
        const id = rowStreamId(values);
        if (id !== undefined) keep.push(id);
        this.reportOnce(`${JSON.stringify(id ?? `row ${i + 1}`)}: ${error.message}`);
      }
    });
    const outcome = await applySourceRows(this.db, streams, keep);
    for (const id of outcome.conflicts) this.reportOnce(`${id}: also created through the admin API; the table row is ignored`);
    return outcome;
  }

  private reportOnce(problem: string): void {
    if (this.reported.has(problem)) return;
    this.reported.add(problem);
    this.logger.warn({ table: this.table, problem }, "source table row skipped");
  }
}
