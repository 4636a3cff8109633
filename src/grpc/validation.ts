import { status } from "@grpc/grpc-js";

/** A request field that breaks a rule; becomes INVALID_ARGUMENT naming the field. */
export class FieldError extends Error {
  override name = "FieldError";
  readonly code = status.INVALID_ARGUMENT;
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

/** Longest id accepted for instances and streams. */
export const MAX_ID_LENGTH = 128;
/** Largest capacity an instance may announce. */
export const MAX_CAPACITY = 10_000;
/** Labels and metadata stay small: they travel with every assignment. */
export const MAX_MAP_ENTRIES = 64;
export const MAX_MAP_VALUE_LENGTH = 1_024;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** What is wrong with an id (1 to 128 characters, no control characters), or undefined. */
export function idProblem(value: string): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters (got ${value.length})`;
  if (CONTROL.test(value)) return "must not contain control characters";
  return undefined;
}

/** Ids are 1 to 128 characters without control characters. */
export function checkId(field: string, value: string): string {
  const problem = idProblem(value);
  if (problem) throw new FieldError(field, problem);
  return value;
}

/** Labels and metadata: bounded number of entries and sizes. */
export function checkStringMap(field: string, map: Record<string, string>): Record<string, string> {
  const entries = Object.entries(map);
  if (entries.length > MAX_MAP_ENTRIES) throw new FieldError(field, `must have at most ${MAX_MAP_ENTRIES} entries`);
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > MAX_ID_LENGTH) throw new FieldError(`${field}[${JSON.stringify(key.slice(0, 40))}]`, `keys must be 1 to ${MAX_ID_LENGTH} characters`);
    if (value.length > MAX_MAP_VALUE_LENGTH) throw new FieldError(`${field}[${JSON.stringify(key)}]`, `values must be at most ${MAX_MAP_VALUE_LENGTH} characters`);
  }
  return map;
}

/** URL schemes a radio stream can have. */
export const STREAM_URL_SCHEMES = ["http:", "https:", "icy:", "rtmp:", "rtmps:", "rtsp:", "mms:", "mmsh:", "hls:", "srt:", "udp:", "rtp:"];

/** A stream URL: absolute, with a host and a scheme from {@link STREAM_URL_SCHEMES}. */
export function checkStreamUrl(field: string, value: string): string {
  if (value.length === 0) throw new FieldError(field, "must not be empty");
  if (value.length > 2_048) throw new FieldError(field, "must be at most 2048 characters");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FieldError(field, `must be an absolute URL (got ${JSON.stringify(value.slice(0, 80))})`);
  }
  if (!STREAM_URL_SCHEMES.includes(url.protocol)) {
    throw new FieldError(field, `scheme must be one of ${STREAM_URL_SCHEMES.map((s) => s.slice(0, -1)).join(", ")} (got ${url.protocol.slice(0, -1)})`);
  }
  if (!url.hostname) throw new FieldError(field, "must name a host");
  return value;
}
