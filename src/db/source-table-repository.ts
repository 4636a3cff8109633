import { sql } from "kysely";
import type { CatalogStream } from "../coordinator/types.js";
import type { Db } from "./database.js";
import { inTransaction } from "./transaction.js";

/**
 * Reads every row of the users' own streams table. A plain SELECT takes no
 * lock that could block their writers (MVCC), so following it is harmless.
 */
export async function readSourceTable(db: Db, table: string): Promise<Array<Record<string, unknown>>> {
  const result = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
  return result.rows;
}

/** Fails with PostgreSQL's own message when the table cannot be read. */
export async function checkSourceTable(db: Db, table: string): Promise<void> {
  await sql`select 1 from ${sql.table(table)} limit 0`.execute(db);
}

/** What one sync pass changed in the catalog. */
export interface SyncOutcome {
  created: string[];
  updated: string[];
  deleted: string[];
  /** Ids present in the table but created through the admin API: left alone. */
  conflicts: string[];
}

const same = (a: CatalogStream, b: CatalogStream) =>
  a.url === b.url && a.name === b.name && a.enabled === b.enabled && JSON.stringify(a.metadata) === JSON.stringify(b.metadata);

const sortedKeys = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * Makes the table-sourced part of the catalog equal to `streams`, in one
 * transaction: new and changed rows are written with source 'table', rows
 * that vanished from the users' table are deleted. Streams created through
 * the admin API are never touched, even when an id collides; `keep` names
 * rows that exist in the users' table but are invalid for now, whose
 * catalog entry stays as it was.
 */
export function applySourceRows(db: Db, streams: CatalogStream[], keep: string[] = []): Promise<SyncOutcome> {
  return inTransaction(db, async (trx) => {
    const rows = await trx.selectFrom("streams").selectAll().forUpdate().execute();
    const existing = new Map(rows.map((r) => [r.id, r]));
    const wanted = new Set([...streams.map((s) => s.id), ...keep]);
    const outcome: SyncOutcome = { created: [], updated: [], deleted: [], conflicts: [] };
    const changed: CatalogStream[] = [];
    for (const stream of streams) {
      const normalized = { ...stream, metadata: sortedKeys(stream.metadata) };
      const row = existing.get(stream.id);
      if (row && row.source !== "table") {
        outcome.conflicts.push(stream.id);
        continue;
      }
      if (!row) outcome.created.push(stream.id);
      else if (same({ id: row.id, url: row.url, name: row.name, enabled: row.enabled, metadata: sortedKeys(row.metadata) }, normalized)) continue;
      else outcome.updated.push(stream.id);
      changed.push(normalized);
    }
    outcome.deleted = rows.filter((r) => r.source === "table" && !wanted.has(r.id)).map((r) => r.id);
    if (changed.length) {
      await sql`
        insert into streams (id, url, name, metadata, enabled, source)
        select id, url, name, metadata, enabled, 'table'
        from jsonb_to_recordset(${JSON.stringify(changed)}::jsonb) as x(id text, url text, name text, metadata jsonb, enabled boolean)
        on conflict (id) do update set
          url = excluded.url, name = excluded.name, metadata = excluded.metadata, enabled = excluded.enabled, updated_at = now()`.execute(trx);
      const disabled = changed.filter((s) => !s.enabled).map((s) => s.id);
      if (disabled.length) await trx.deleteFrom("assignments").where("stream_id", "in", disabled).execute();
    }
    if (outcome.deleted.length) await trx.deleteFrom("streams").where("id", "in", outcome.deleted).execute();
    return outcome;
  });
}
