import type { Coordinator } from "../coordinator/coordinator.js";
import type { CatalogStream } from "../coordinator/types.js";
import type { Db } from "../db/database.js";
import { deleteStreams, upsertStreams } from "../db/streams-repository.js";
import type { AdminServiceServer, StreamSpec } from "../gen/orchestrator/v1/admin.js";
import type { Logger } from "../log/logger.js";
import { unary } from "./unary.js";
import { checkId, checkStreamUrl, checkStringMap, FieldError } from "./validation.js";

/** Most streams accepted by one catalog call. */
export const MAX_BATCH = 10_000;

/**
 * Validates a StreamSpec and maps it to a catalog stream.
 * @throws FieldError naming the offending field, e.g. `streams[3].url`.
 */
export function streamFromSpec(spec: StreamSpec, index: number): CatalogStream {
  const at = `streams[${index}]`;
  const name = spec.name.trim();
  if (name.length > 256) throw new FieldError(`${at}.name`, "must be at most 256 characters");
  return {
    id: checkId(`${at}.id`, spec.id),
    url: checkStreamUrl(`${at}.url`, spec.url.trim()),
    name,
    metadata: checkStringMap(`${at}.metadata`, spec.metadata),
    enabled: spec.enabled ?? true,
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

/** The operator API: catalog writes go to PostgreSQL first, then the coordinator reacts. */
export function adminService(db: Db, coordinator: Coordinator, logger: Logger): AdminServiceServer {
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
      checkBatch("stream_ids", request.streamIds.length);
      const ids = request.streamIds.map((id, i) => checkId(`stream_ids[${i}]`, id));
      const deleted = await deleteStreams(db, [...new Set(ids)]);
      await coordinator.catalogChanged(deleted);
      const gone = new Set(deleted);
      return { deleted: deleted.length, notFound: [...new Set(ids)].filter((id) => !gone.has(id)) };
    }),
  };
}
