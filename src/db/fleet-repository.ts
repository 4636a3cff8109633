import { sql } from "kysely";
import type { CatalogStream, Ownership, SeenWrite } from "../coordinator/store-port.js";
import type { Db } from "./database.js";
import type { AssignmentRow, InstanceRow, StreamRow } from "./schema.js";

/** The tables' rows the coordinator needs to pick up where the last run stopped. */
export interface FleetRows {
  instances: InstanceRow[];
  streams: CatalogStream[];
  assignments: Map<string, Ownership>;
}

/** Maps a catalog row to the coordinator's stream. */
export function streamFromRow(row: StreamRow): CatalogStream {
  return { id: row.id, url: row.url, name: row.name, metadata: row.metadata, enabled: row.enabled };
}

/** Maps an assignment row to the coordinator's ownership (granted before this process: no grant time). */
export function ownershipFromRow(row: Pick<AssignmentRow, "instance_id" | "epoch" | "state">): Ownership {
  return { instanceId: row.instance_id, epoch: row.epoch, revoking: row.state === "revoking" };
}

/** Reads instances, the catalog and the assignments in one consistent snapshot. */
export async function loadFleet(db: Db): Promise<FleetRows> {
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (trx) => {
      const instances = await trx.selectFrom("instances").selectAll().orderBy("id").execute();
      const streams = await trx.selectFrom("streams").selectAll().orderBy("id").execute();
      const rows = await trx.selectFrom("assignments").select(["stream_id", "instance_id", "epoch", "state"]).execute();
      const assignments = new Map<string, Ownership>();
      for (const r of rows) assignments.set(r.stream_id, ownershipFromRow(r));
      return { instances, streams: streams.map(streamFromRow), assignments };
    });
}

/** Reads the current catalog rows of some streams (absent ids were deleted). */
export async function loadStreams(db: Db, ids: string[]): Promise<CatalogStream[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom("streams").selectAll().where("id", "in", ids).execute();
  return rows.map(streamFromRow);
}

/** Rows per statement of the last-seen flush: small enough not to stall the event loop. */
const SEEN_CHUNK = 1_000;

/**
 * Seen-at bookkeeping for many instances, so heartbeats never write one by
 * one: one statement per thousand instances, as a single JSON parameter (cheap
 * to encode), yielding to the event loop between chunks so sessions stay responsive.
 */
export async function flushLastSeen(db: Db, seen: SeenWrite[]): Promise<void> {
  for (let i = 0; i < seen.length; i += SEEN_CHUNK) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    const payload = JSON.stringify(seen.slice(i, i + SEEN_CHUNK).map((s) => ({ id: s.id, at: s.at.toISOString(), metrics: s.metrics })));
    await sql`
      update instances i set last_seen_at = s.at, metrics = coalesce(s.metrics, i.metrics)
      from jsonb_to_recordset(${payload}::jsonb) as s(id text, at timestamptz, metrics jsonb)
      where i.id = s.id`.execute(db);
  }
}

