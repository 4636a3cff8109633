import { sql } from "kysely";
import type { CatalogStream } from "../coordinator/store-port.js";
import type { Db } from "./database.js";
import { streamFromRow } from "./fleet-repository.js";
import { diffStreams, writeStreams, type StreamInput } from "./streams-repository.js";
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

/**
 * Makes the table-sourced part of the catalog equal to `streams`: new and
 * changed rows are written with source 'table', rows that vanished from the
 * users' table are deleted. Streams created through the admin API are never
 * touched, even when an id collides; `keep` names rows that exist in the
 * users' table but are invalid for now, whose catalog entry stays as it was.
 * The comparison reads without locks, so a pass that finds nothing to do
 * writes and locks nothing; changes are written in one transaction.
 */
export async function applySourceRows(db: Db, sourced: StreamInput[], keep: string[] = []): Promise<SyncOutcome> {
  const rows = await db.selectFrom("streams").selectAll().execute();
  const conflicts = new Set(rows.filter((r) => r.source !== "table").map((r) => r.id));
  const ours = new Map(rows.filter((r) => r.source === "table").map((r) => [r.id, streamFromRow(r)]));
  // A table without an `enabled` column leaves the flag to operators (SetStreamsEnabled):
  // rows without it keep the flag they have, also when written.
  const wanted = new Set([...sourced.map((s) => s.id), ...keep]);
  const diff = diffStreams(ours, sourced.filter((s) => !conflicts.has(s.id)));
  const outcome: SyncOutcome = {
    created: diff.created,
    updated: diff.updated,
    deleted: [...ours.keys()].filter((id) => !wanted.has(id)),
    conflicts: sourced.filter((s) => conflicts.has(s.id)).map((s) => s.id),
  };
  if (!diff.changed.length && !outcome.deleted.length) return outcome;
  await inTransaction(db, async (trx) => {
    await writeStreams(trx, diff.changed, "table");
    if (outcome.deleted.length) {
      await trx.deleteFrom("streams").where("id", "in", outcome.deleted).where("source", "=", "table").execute();
    }
  });
  return outcome;
}
