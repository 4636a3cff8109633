import { FieldError } from "./field-error.js";

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
