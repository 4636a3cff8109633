import { sql } from "kysely";
import type { CatalogStream } from "../coordinator/types.js";
import type { Db } from "./database.js";
import { inTransaction } from "./transaction.js";

/** What an upsert did to each stream id. */
export interface UpsertOutcome {
  created: string[];
  updated: string[];
  unchanged: string[];
}

function same(a: CatalogStream, b: CatalogStream): boolean {
  return a.url === b.url && a.name === b.name && a.enabled === b.enabled && JSON.stringify(a.metadata) === JSON.stringify(b.metadata);
}

function sortedKeys(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Creates or replaces catalog streams in one transaction (all or nothing),
 * dropping the assignments of streams it disables;
 * rows that would not change are left alone, so their owners are not disturbed.
 */
export function upsertStreams(db: Db, streams: CatalogStream[]): Promise<UpsertOutcome> {
  return inTransaction(db, async (trx) => {
    const ids = streams.map((s) => s.id);
    const existing = new Map(
      (ids.length ? await trx.selectFrom("streams").selectAll().where("id", "in", ids).forUpdate().execute() : []).map((r) => [
        r.id,
        { id: r.id, url: r.url, name: r.name, metadata: sortedKeys(r.metadata), enabled: r.enabled },
      ]),
    );
    const outcome: UpsertOutcome = { created: [], updated: [], unchanged: [] };
    const changed: CatalogStream[] = [];
    for (const s of streams) {
      const normalized = { ...s, metadata: sortedKeys(s.metadata) };
      const before = existing.get(s.id);
      if (!before) outcome.created.push(s.id);
      else if (same(before, normalized)) {
        outcome.unchanged.push(s.id);
        continue;
      } else outcome.updated.push(s.id);
      changed.push(normalized);
    }
    if (changed.length) {
      const payload = JSON.stringify(changed);
      await sql`
        insert into streams (id, url, name, metadata, enabled)
        select id, url, name, metadata, enabled
        from jsonb_to_recordset(${payload}::jsonb) as x(id text, url text, name text, metadata jsonb, enabled boolean)
        on conflict (id) do update set
          url = excluded.url, name = excluded.name, metadata = excluded.metadata, enabled = excluded.enabled, updated_at = now()`.execute(trx);
      // A disabled stream has no owner, in the same transaction that disables it.
      const disabled = changed.filter((s) => !s.enabled).map((s) => s.id);
      if (disabled.length) await trx.deleteFrom("assignments").where("stream_id", "in", disabled).execute();
    }
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
