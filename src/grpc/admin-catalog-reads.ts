import type { CatalogStream } from "../coordinator/types.js";
import type { CatalogView } from "../db/catalog-snapshot.js";
import type { Db } from "../db/database.js";
import { streamHistory } from "../db/streams-repository.js";
import { FieldError } from "../domain/field-error.js";
import { checkId, idProblem } from "../domain/ids.js";
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
function matchingStreams(view: CatalogView, request: ListStreamsRequest): CatalogStream[] {
  const { owner, unassignedOnly, enabled } = request;
  if (owner && !view.hasInstance(owner)) throw new NotFoundError(`instance ${JSON.stringify(owner)} not found`);
  const pool = owner ? [...view.ownedBy(owner)].flatMap((id) => view.catalog.get(id) ?? []) : [...view.catalog.values()];
  return pool
    .filter((s) => enabled === undefined || s.enabled === enabled)
    .filter((s) => !unassignedOnly || (s.enabled && !view.owners.has(s.id)))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Where the catalog reads get the catalog and its owners: the leader's
 * memory, or on a standby a snapshot of the tables (src/db/catalog-snapshot.ts).
 * `streamId` says that only that stream is needed.
 */
export type CatalogSource = (streamId?: string) => Promise<CatalogView>;

/**
 * The catalog reads, one implementation for leader and standby so that both
 * answer with the same checks and the same encoding; only `source` differs.
 * Audit history always comes from the events table.
 */
export function catalogReadHandlers(db: Db, source: CatalogSource, logger: Logger): Pick<AdminServiceServer, "listStreams" | "getStream"> {
  return {
    listStreams: unary("ListStreams", logger, async (request) => {
      const pageSize = request.pageSize || 100;
      if (pageSize > MAX_PAGE) throw new FieldError("page_size", `must be at most ${MAX_PAGE} (got ${pageSize})`);
      // Checked before the catalog is read: a bad token costs no snapshot.
      const after = request.pageToken ? decodeToken(request.pageToken) : undefined;
      const view = await source();
      const all = matchingStreams(view, request);
      let start = 0;
      if (after !== undefined) {
        start = all.findIndex((s) => s.id > after);
        if (start < 0) start = all.length;
      }
      const page = all.slice(start, start + pageSize);
      const more = start + pageSize < all.length;
      return {
        streams: page.map((s) => streamInfo(s, view.owners)),
        nextPageToken: more ? encodeToken(page[page.length - 1]!.id) : "",
        totalMatching: all.length,
      };
    }),
    getStream: unary("GetStream", logger, async (request) => {
      const id = checkId("stream_id", request.streamId);
      const limit = request.historyLimit || 20;
      if (limit > 500) throw new FieldError("history_limit", `must be at most 500 (got ${limit})`);
      const view = await source(id);
      const stream = view.catalog.get(id);
      if (!stream) throw new NotFoundError(`stream ${JSON.stringify(id)} not found`);
      const history = await streamHistory(db, id, limit);
      return { stream: streamInfo(stream, view.owners), history: history.map(eventFromRow) };
    }),
  };
}
