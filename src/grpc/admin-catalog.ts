import type { Coordinator } from "../coordinator/coordinator.js";
import type { CatalogStream } from "../coordinator/types.js";
import type { Db } from "../db/database.js";
import { deleteStreams, setStreamsEnabled, streamHistory, upsertStreams } from "../db/streams-repository.js";
import { FieldError } from "../domain/field-error.js";
import { checkId, idProblem } from "../domain/ids.js";
import { streamIdsOf, streamsFromSpecs } from "../domain/stream-spec.js";
import type { AdminServiceServer, ListStreamsRequest } from "../gen/orchestrator/v1/admin.js";
import type { Logger } from "../log/logger.js";
import { eventFromRow, streamInfo } from "./admin-mappers.js";
import { NotFoundError, unary } from "./unary.js";

const MAX_PAGE = 1_000;

/** A page token is the last id of the previous page, base64url so that clients treat it as opaque. */
const encodeToken = (id: string) => Buffer.from(id, "utf8").toString("base64url");

/**
 * The id a page token stands for. Node's base64url decoder ignores what it
 * cannot read, so a token only counts when encoding its id gives it back and
 * that id could be a stream's; anything else would quietly list from elsewhere.
 * @throws FieldError `page_token` for a token no page handed out.
 */
function decodeToken(token: string): string {
  const id = Buffer.from(token, "base64url").toString("utf8");
  if (encodeToken(id) !== token || idProblem(id) !== undefined) throw new FieldError("page_token", "is not a token from a previous page");
  return id;
}

/** Streams matching a ListStreams filter, ordered by id. */
function matchingStreams(coordinator: Coordinator, request: ListStreamsRequest): CatalogStream[] {
  const { owner, unassignedOnly, enabled } = request;
  const { view } = coordinator;
  if (owner && !view.instance(owner)) throw new NotFoundError(`instance ${JSON.stringify(owner)} not found`);
  const pool = owner ? [...view.ownedBy(owner)].flatMap((id) => view.catalog.get(id) ?? []) : [...view.catalog.values()];
  return pool
    .filter((s) => enabled === undefined || s.enabled === enabled)
    .filter((s) => !unassignedOnly || (s.enabled && !view.owners.has(s.id)))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Catalog calls: writes go to PostgreSQL first, then the coordinator reacts; reads come from memory. */
export function catalogHandlers(db: Db, coordinator: Coordinator, logger: Logger): Pick<
  AdminServiceServer,
  "upsertStreams" | "deleteStreams" | "setStreamsEnabled" | "listStreams" | "getStream"
> {
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
    listStreams: unary("ListStreams", logger, async (request) => {
      const pageSize = request.pageSize || 100;
      if (pageSize > MAX_PAGE) throw new FieldError("page_size", `must be at most ${MAX_PAGE} (got ${pageSize})`);
      const all = matchingStreams(coordinator, request);
      let start = 0;
      if (request.pageToken) {
        const after = decodeToken(request.pageToken);
        start = all.findIndex((s) => s.id > after);
        if (start < 0) start = all.length;
      }
      const page = all.slice(start, start + pageSize);
      const more = start + pageSize < all.length;
      return {
        streams: page.map((s) => streamInfo(s, coordinator)),
        nextPageToken: more ? encodeToken(page[page.length - 1]!.id) : "",
        totalMatching: all.length,
      };
    }),
    getStream: unary("GetStream", logger, async (request) => {
      const id = checkId("stream_id", request.streamId);
      const limit = request.historyLimit || 20;
      if (limit > 500) throw new FieldError("history_limit", `must be at most 500 (got ${limit})`);
      const stream = coordinator.view.catalog.get(id);
      if (!stream) throw new NotFoundError(`stream ${JSON.stringify(id)} not found`);
      const history = await streamHistory(db, id, limit);
      return { stream: streamInfo(stream, coordinator), history: history.map(eventFromRow) };
    }),
  };
}
