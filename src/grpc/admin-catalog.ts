import type { Coordinator } from "../coordinator/coordinator.js";
import type { CatalogStream } from "../coordinator/types.js";
import type { Db } from "../db/database.js";
import { deleteStreams, setStreamsEnabled, streamHistory, upsertStreams, type StreamInput } from "../db/streams-repository.js";
import type { AdminServiceServer, ListStreamsRequest, StreamSpec } from "../gen/orchestrator/v1/admin.js";
import type { Logger } from "../log/logger.js";
import { eventFromRow, streamInfo } from "./admin-mappers.js";
import { NotFoundError, unary } from "./unary.js";
import { checkId, checkStreamUrl, checkStringMap, FieldError } from "./validation.js";

/** Most streams accepted by one catalog call. */
export const MAX_BATCH = 10_000;
const MAX_PAGE = 1_000;

/**
 * Validates a StreamSpec and maps it to a catalog stream.
 * @throws FieldError naming the offending field, e.g. `streams[3].url`.
 */
export function streamFromSpec(spec: StreamSpec, index: number): StreamInput {
  const at = `streams[${index}]`;
  const name = spec.name.trim();
  if (name.length > 256) throw new FieldError(`${at}.name`, "must be at most 256 characters");
  return {
    id: checkId(`${at}.id`, spec.id),
    url: checkStreamUrl(`${at}.url`, spec.url.trim()),
    name,
    metadata: checkStringMap(`${at}.metadata`, spec.metadata),
    enabled: spec.enabled,
  };
}

function checkBatch(field: string, size: number): void {
  if (size === 0) throw new FieldError(field, "must not be empty");
  if (size > MAX_BATCH) throw new FieldError(field, `must have at most ${MAX_BATCH} entries (got ${size})`);
}

function checkUnique(field: string, ids: string[]): void {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) throw new FieldError(`${field}[${i}]`, `duplicate id ${JSON.stringify(id)}`);
    seen.add(id);
  });
}

function streamIdsOf(field: string, ids: string[]): string[] {
  checkBatch(field, ids.length);
  return [...new Set(ids.map((id, i) => checkId(`${field}[${i}]`, id)))];
}

const encodeToken = (id: string) => Buffer.from(id, "utf8").toString("base64url");
const decodeToken = (token: string) => Buffer.from(token, "base64url").toString("utf8");

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
      checkBatch("streams", request.streams.length);
      const streams = request.streams.map(streamFromSpec);
      checkUnique("streams", streams.map((s) => s.id));
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
        if (!after) throw new FieldError("page_token", "is not a token from a previous page");
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
