import { sql, type Transaction } from "kysely";
import type { CatalogStream } from "../coordinator/types.js";
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

function sortedKeys(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Metadata in key order, so equal streams compare (and are stored) equal. */
function normalized(stream: CatalogStream): CatalogStream {
  return { ...stream, metadata: sortedKeys(stream.metadata) };
}

/** Whether two catalog entries carry the same content (metadata compared in key order). */
export function sameStream(a: CatalogStream, b: CatalogStream): boolean {
  return (
    a.url === b.url &&
    a.name === b.name &&
    a.enabled === b.enabled &&
    JSON.stringify(normalized(a).metadata) === JSON.stringify(normalized(b).metadata)
  );
}

/**
 * Sorts incoming streams into created, updated and unchanged against the
 * rows that exist now; `changed` holds what must be written.
 */
export function diffStreams(
  existing: ReadonlyMap<string, CatalogStream>,
  incoming: CatalogStream[],
): UpsertOutcome & { changed: CatalogStream[] } {
  const outcome = { created: [] as string[], updated: [] as string[], unchanged: [] as string[], changed: [] as CatalogStream[] };
  for (const stream of incoming) {
    const next = normalized(stream);
    const before = existing.get(stream.id);
    if (!before) outcome.created.push(stream.id);
    else if (sameStream(before, next)) {
      outcome.unchanged.push(stream.id);
      continue;
    } else outcome.updated.push(stream.id);
    outcome.changed.push(next);
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
        enabled = coalesce((select i.enabled from input i where i.id = excluded.id), streams.enabled),
        updated_at = now()
      returning id, enabled
    )
    delete from assignments a using written w where a.stream_id = w.id and not w.enabled`.execute(trx);
}

/** A stream as a writer describes it; without `enabled` the stream keeps its flag (a new one starts enabled). */
export type StreamInput = Omit<CatalogStream, "enabled"> & { enabled?: boolean };

/**
 * Fills in `enabled` where the writer left it out, from `current`: an
 * operator's disable survives a re-import or a table without such a column.
 */
export function withEnabled(inputs: StreamInput[], current: ReadonlyMap<string, CatalogStream>): CatalogStream[] {
  return inputs.map((s) => ({ ...s, enabled: s.enabled ?? current.get(s.id)?.enabled ?? true }));
}

/**
 * Creates or replaces catalog streams in one transaction (all or nothing);
 * rows that would not change are left alone, so their owners are not disturbed.
 */
export function upsertStreams(db: Db, inputs: StreamInput[]): Promise<UpsertOutcome> {
  return inTransaction(db, async (trx) => {
    const ids = inputs.map((s) => s.id);
    const rows = ids.length ? await trx.selectFrom("streams").selectAll().where("id", "in", ids).forUpdate().execute() : [];
    const current = new Map(rows.map((r) => [r.id, streamFromRow(r)]));
    const { changed, ...outcome } = diffStreams(current, withEnabled(inputs, current));
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
