import type { Coordinator } from "../coordinator/coordinator.js";
import type { Db } from "../db/database.js";
import { deleteStreams, setStreamsEnabled, upsertStreams } from "../db/streams-repository.js";
import { streamIdsOf, streamsFromSpecs } from "../domain/stream-spec.js";
import type { AdminServiceServer } from "../gen/orchestrator/v1/admin.js";
import type { Logger } from "../log/logger.js";
import { catalogReadHandlers } from "./admin-catalog-reads.js";
import { unary } from "./unary.js";

/** Catalog calls on the leader: writes go to PostgreSQL first, then the coordinator reacts; reads come from its memory. */
export function catalogHandlers(db: Db, coordinator: Coordinator, logger: Logger): Pick<
  AdminServiceServer,
  "upsertStreams" | "deleteStreams" | "setStreamsEnabled" | "listStreams" | "getStream"
> {
  const fromMemory = async () => {
    const { view } = coordinator;
    return { catalog: view.catalog, owners: view.owners, ownedBy: (id: string) => view.ownedBy(id), hasInstance: (id: string) => view.instance(id) !== undefined };
  };
  return {
    upsertStreams: unary("UpsertStreams", logger, async (request) => {
      const streams = streamsFromSpecs(request.streams);
      const outcome = await upsertStreams(db, streams);
      await coordinator.catalogChanged([...outcome.created, ...outcome.updated]);
      return { created: outcome.created.length, updated: outcome.updated.length, unchanged: outcome.unchanged.length };
    }),
    deleteStreams: unary("DeleteStreams", logger, async (request) => {
      const ids = streamIdsOf("stream_ids", request.streamIds);
      const deleted = await deleteStreams(db, ids);
      await coordinator.catalogChanged(deleted);
      const gone = new Set(deleted);
      return { deleted: deleted.length, notFound: ids.filter((id) => !gone.has(id)) };
    }),
    setStreamsEnabled: unary("SetStreamsEnabled", logger, async (request) => {
      const ids = streamIdsOf("stream_ids", request.streamIds);
      const { changed, found } = await setStreamsEnabled(db, ids, request.enabled);
      await coordinator.catalogChanged(changed);
      const exists = new Set(found);
      return { changed: changed.length, notFound: ids.filter((id) => !exists.has(id)) };
    }),
    ...catalogReadHandlers(db, fromMemory, logger),
  };
}
