import { FieldError } from "./field-error.js";
import { MAX_ID_LENGTH, MAX_MAP_ENTRIES, MAX_MAP_VALUE_LENGTH } from "./limits.js";

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
