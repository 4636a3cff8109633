import { FieldError } from "./field-error.js";
import { MAX_ID_LENGTH } from "./limits.js";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// What protobuf's decoder makes of bytes that are not UTF-8 (and of a lone surrogate).
const NOT_UTF8 = /\uFFFD|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What is wrong with an id (1 to 128 characters of valid UTF-8, no control characters), or
 * undefined. Apart from {@link checkId} for callers that report in their own way.
 */
export function idProblem(value: string): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters (got ${value.length})`;
  if (CONTROL.test(value)) return "must not contain control characters";
  if (NOT_UTF8.test(value)) return "must be valid UTF-8 (no U+FFFD replacement characters)";
  return undefined;
}

/** Ids are 1 to 128 characters without control characters. */
export function checkId(field: string, value: string): string {
  const problem = idProblem(value);
  if (problem) throw new FieldError(field, problem);
  return value;
}
