import { FieldError } from "./field-error.js";
import { checkId } from "./ids.js";
import { checkStreamUrl } from "./stream-url.js";
import { checkStringMap } from "./string-map.js";

/** Most streams accepted by one catalog call: one call is one transaction. */
export const MAX_BATCH = 10_000;
const MAX_NAME_LENGTH = 256;

/**
 * A stream as a caller describes it, from the admin API, an import file or
 * the users' table. Without `enabled` the stream keeps its flag (a new one
 * starts enabled), so re-sending a description never undoes a disable.
 */
export interface StreamSpec {
  id: string;
  url: string;
  name: string;
  metadata: Record<string, string>;
  enabled?: boolean | undefined;
}

/**
 * Checks one stream of a batch and returns it with name and URL trimmed.
 * @throws FieldError naming the offending field, e.g. `streams[3].url`.
 */
export function streamFromSpec(spec: StreamSpec, index: number): StreamSpec {
  const at = `streams[${index}]`;
  const name = spec.name.trim();
  if (name.length > MAX_NAME_LENGTH) throw new FieldError(`${at}.name`, `must be at most ${MAX_NAME_LENGTH} characters`);
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

/**
 * Checks a whole batch of streams, all or nothing. An id given twice is an
 * error rather than "last one wins": the two entries may disagree.
 * @throws FieldError naming the first offending field, e.g. `streams[3].url`.
 */
export function streamsFromSpecs(specs: readonly StreamSpec[]): StreamSpec[] {
  checkBatch("streams", specs.length);
  const streams = specs.map(streamFromSpec);
  const seen = new Set<string>();
  streams.forEach(({ id }, i) => {
    if (seen.has(id)) throw new FieldError(`streams[${i}]`, `duplicate id ${JSON.stringify(id)}`);
    seen.add(id);
  });
  return streams;
}

/**
 * Checks the stream ids a call acts on (delete, enable, disable). Repeats
 * count once: acting twice on the same stream does nothing more.
 * @throws FieldError naming the list or the offending entry, e.g. `stream_ids[2]`.
 */
export function streamIdsOf(field: string, ids: readonly string[]): string[] {
  checkBatch(field, ids.length);
  return [...new Set(ids.map((id, i) => checkId(`${field}[${i}]`, id)))];
}
