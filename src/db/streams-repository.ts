import { sql, type RawBuilder, type Transaction } from "kysely";
import type { CatalogStream } from "../coordinator/store-port.js";
import { sameStream } from "../domain/same-stream.js";
import type { Db } from "./database.js";
import { streamFromRow } from "./fleet-repository.js";
import type { Database } from "./schema.js";
import { inTransaction } from "./transaction.js";

/** What an upsert did to each stream id. */
export interface UpsertOutcome {
  created: string[];
  updated: string[];
  unchanged: string[];
}

/**
 * Sorts incoming streams into created, updated and unchanged against the
 * rows that exist now; `changed` holds what must be written, as given.
 */
export function diffStreams(
  existing: ReadonlyMap<string, CatalogStream>,
  incoming: StreamInput[],
): UpsertOutcome & { changed: StreamInput[] } {
  const outcome = { created: [] as string[], updated: [] as string[], unchanged: [] as string[], changed: [] as StreamInput[] };
  for (const stream of incoming) {
    const before = existing.get(stream.id);
    if (!before) outcome.created.push(stream.id);
    else if (sameStream(before, stream)) {
      outcome.unchanged.push(stream.id);
      continue;
    } else outcome.updated.push(stream.id);
    outcome.changed.push(stream);
  }
  return outcome;
}

/**
 * Writes catalog rows (insert or replace) with their source. A stream
 * without `enabled` keeps the flag the row has when written (not when it was
 * read: an operator's SetStreamsEnabled committed in between wins), and a new
 * one starts enabled. Whatever ends up disabled loses its assignment in the
 * same statement, so it has no owner.
 */
export async function writeStreams(trx: Transaction<Database>, streams: StreamInput[], source: "api" | "table"): Promise<void> {
  // Two statements rather than a per-row lookup of the input (quadratic in the batch):
  // rows that give `enabled` set it, the others leave the column out of the update.
  await writeStreamRows(trx, streams.filter((s) => s.enabled !== undefined), source, sql`excluded.enabled`);
  await writeStreamRows(trx, streams.filter((s) => s.enabled === undefined), source, sql`streams.enabled`);
}

async function writeStreamRows(trx: Transaction<Database>, streams: StreamInput[], source: "api" | "table", enabledOnUpdate: RawBuilder<unknown>): Promise<void> {
  if (!streams.length) return;
  await sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(streams)}::jsonb)
        as r(id text, url text, name text, metadata jsonb, enabled boolean)
    ), written as (
      insert into streams (id, url, name, metadata, enabled, source)
      select id, url, name, metadata, coalesce(enabled, true), ${source} from input
      on conflict (id) do update set
        url = excluded.url, name = excluded.name, metadata = excluded.metadata,
        enabled = ${enabledOnUpdate}, updated_at = now()
      returning id, enabled
    )
    delete from assignments a using written w where a.stream_id = w.id and not w.enabled`.execute(trx);
}

/** A stream as a writer describes it; without `enabled` the stream keeps its flag (a new one starts enabled). */
export type StreamInput = Omit<CatalogStream, "enabled"> & { enabled?: boolean };

/**
 * Creates or replaces catalog streams in one transaction (all or nothing);
 * rows that would not change are left alone, so their owners are not disturbed.
 */
export function upsertStreams(db: Db, inputs: StreamInput[]): Promise<UpsertOutcome> {
  return inTransaction(db, async (trx) => {
    const ids = inputs.map((s) => s.id);
    const rows = ids.length ? await trx.selectFrom("streams").selectAll().where("id", "in", ids).forUpdate().execute() : [];
    const current = new Map(rows.map((r) => [r.id, streamFromRow(r)]));
    const { changed, ...outcome } = diffStreams(current, inputs);
    await writeStreams(trx, changed, "api");
    return outcome;
  });
}

/** Deletes streams; their assignments go with them. Returns the ids that existed. */
export async function deleteStreams(db: Db, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await db.deleteFrom("streams").where("id", "in", ids).returning("id").execute();
  return rows.map((r) => r.id);
}

/**
 * Enables or disables streams; disabling drops their assignments in the same
 * transaction. Returns the ids that changed and the ids that exist.
 */
export function setStreamsEnabled(db: Db, ids: string[], enabled: boolean): Promise<{ changed: string[]; found: string[] }> {
  return inTransaction(db, async (trx) => {
    const found = (await trx.selectFrom("streams").select("id").where("id", "in", ids).execute()).map((r) => r.id);
    const changed = (
      await trx
        .updateTable("streams")
        .set({ enabled, updated_at: new Date() })
        .where("id", "in", ids)
        .where("enabled", "<>", enabled)
        .returning("id")
        .execute()
    ).map((r) => r.id);
    if (!enabled && changed.length) await trx.deleteFrom("assignments").where("stream_id", "in", changed).execute();
    return { changed, found };
  });
}

/** The most recent audit events about a stream, newest first. */
export function streamHistory(db: Db, streamId: string, limit: number) {
  return db.selectFrom("events").selectAll().where("stream_id", "=", streamId).orderBy("id", "desc").limit(limit).execute();
}
