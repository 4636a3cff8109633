import type { CatalogStream, Ownership } from "../coordinator/types.js";
import type { Db } from "./database.js";
import { ownershipFromRow, streamFromRow } from "./fleet-repository.js";

/**
 * What the catalog reads of AdminService (ListStreams, GetStream) need: the
 * catalog, who owns what, and which instances exist (an `owner` filter naming
 * an unknown one is NOT_FOUND). The leader answers them from its memory
 * (FleetView has all of it); a standby from this snapshot of the tables.
 */
export interface CatalogView {
  readonly catalog: ReadonlyMap<string, CatalogStream>;
  readonly owners: ReadonlyMap<string, Ownership>;
  /** Stream ids owned by an instance (revoking ones included). */
  ownedBy(instanceId: string): ReadonlySet<string>;
  hasInstance(instanceId: string): boolean;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * The catalog as the tables hold it, in one consistent snapshot (repeatable
 * read), for a replica that does not lead. It reads only: a standby's pooled
 * connections carry term 0, which the write fence refuses, and the read-only
 * transaction says so to the database too. `streamId` limits the snapshot to
 * one stream (GetStream); without it every stream is read, as the leader holds
 * them all in memory: ListStreams filters and pages over the whole catalog.
 */
export function loadCatalogSnapshot(db: Db, streamId?: string): Promise<CatalogView> {
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .setAccessMode("read only")
    .execute(async (trx) => {
      let streams = trx.selectFrom("streams").selectAll();
      let assignments = trx.selectFrom("assignments").select(["stream_id", "instance_id", "epoch", "state"]);
      if (streamId !== undefined) {
        streams = streams.where("id", "=", streamId);
        assignments = assignments.where("stream_id", "=", streamId);
      }
      const instanceIds = new Set((await trx.selectFrom("instances").select("id").execute()).map((r) => r.id));
      const catalog = new Map((await streams.execute()).map((r) => [r.id, streamFromRow(r)]));
      const owners = new Map<string, Ownership>();
      const byInstance = new Map<string, Set<string>>();
      for (const row of await assignments.execute()) {
        owners.set(row.stream_id, ownershipFromRow(row));
        let owned = byInstance.get(row.instance_id);
        if (!owned) byInstance.set(row.instance_id, (owned = new Set()));
        owned.add(row.stream_id);
      }
      return {
        catalog,
        owners,
        ownedBy: (id) => byInstance.get(id) ?? NONE,
        hasInstance: (id) => instanceIds.has(id),
      };
    });
}
