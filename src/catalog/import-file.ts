import { readFile } from "node:fs/promises";
import path from "node:path";
import { FieldError } from "../domain/field-error.js";
import { MAX_BATCH, streamFromSpec } from "../domain/stream-spec.js";
import type { StreamSpec } from "../gen/orchestrator/v1/admin.js";
import { ImportError, parseCsvRows, parseJsonRows, type SourceRow } from "./parse-rows.js";

export { ImportError, parseCsvRows, parseJsonRows, type SourceRow };

/** Columns that become fields of the stream rather than metadata. */
const FIELDS = new Set(["id", "index", "url", "name", "enabled"]);
/** Columns of the users' `streams` table, matched whatever their case and kept lower-case. */
const KNOWN_COLUMNS = new Set([...FIELDS, "sheet", "cidade", "estado", "regiao", "segmento"]);

const TRUE_WORDS = ["true", "1", "yes", "sim"];
// "nao" too: the tilde is often lost on the way through spreadsheets and terminals.
const FALSE_WORDS = ["false", "0", "no", "não", "nao"];

/**
 * Reads an import file, CSV or JSON by its extension, into numbered rows.
 * @throws ImportError for an unsupported extension, an unreadable file or a malformed one.
 */
export async function readImportFile(file: string): Promise<SourceRow[]> {
  const extension = path.extname(file).toLowerCase();
  if (extension !== ".csv" && extension !== ".json") {
    throw new ImportError(`${file}: unsupported file type ${JSON.stringify(extension || "(none)")}; use a .csv or .json file`);
  }
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch (error) {
    throw new ImportError(`cannot read ${file}: ${describeFsError(error)}`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(content);
  } catch {
    // Latin-1 exports would otherwise turn "São Paulo" into "S\ufffdo Paulo" in the catalog.
    throw new ImportError(`${file} is not UTF-8 text; save it as UTF-8 (in spreadsheets: "CSV UTF-8")`);
  }
  return extension === ".csv" ? parseCsvRows(content) : parseJsonRows(text);
}

/**
 * Shapes rows like the users' `streams` table into StreamSpecs and validates
 * them with the server's own rules, all or nothing.
 * - id from `id`, else `index`; `url`, `name`; optional `enabled` (true/false/1/0/yes/no/sim/não);
 * - every other non-empty column goes to metadata as a string (`index` too when `id` is given).
 * @throws ImportError naming the first bad row, e.g. `row 7: url: scheme must be one of ...`.
 */
export function rowsToSpecs(rows: readonly SourceRow[]): StreamSpec[] {
  if (rows.length === 0) throw new ImportError("the file has no rows to import");
  if (rows.length > MAX_BATCH) {
    throw new ImportError(`the file has ${rows.length} rows; at most ${MAX_BATCH} can be imported at once, split it`);
  }
  const firstRowOfId = new Map<string, number>();
  return rows.map(({ row, values }, i) => {
    let spec: StreamSpec;
    try {
      spec = rowToSpec(values, i);
    } catch (error) {
      if (error instanceof FieldError) throw new ImportError(`row ${row}: ${error.field.replace(/^streams\[\d+\]\./, "")}: ${error.rule}`);
      throw error;
    }
    const earlier = firstRowOfId.get(spec.id);
    if (earlier !== undefined) throw new ImportError(`row ${row}: id ${JSON.stringify(spec.id)} duplicates row ${earlier}`);
    firstRowOfId.set(spec.id, row);
    return spec;
  });
}

/**
 * Shapes one row like the users' `streams` table into a StreamSpec checked
 * with the server's own rules (so what passes here is not rejected there).
 * Used by imports and by the sync that follows the users' table.
 * @throws FieldError naming the column and the rule.
 */
export function rowToSpec(values: Record<string, unknown>, index = 0): StreamSpec {
  const shaped = shapeRow(values);
  const stream = streamFromSpec(shaped, index);
  const spec: StreamSpec = { id: stream.id, url: stream.url, name: stream.name, metadata: stream.metadata };
  if (shaped.enabled !== undefined) spec.enabled = shaped.enabled;
  return spec;
}

/** The stream id a row names (same column rules as an import), or undefined when it names none. */
export function rowStreamId(values: Record<string, unknown>): string | undefined {
  try {
    return shapeRow(values).id;
  } catch {
    return undefined;
  }
}

function shapeRow(values: Record<string, unknown>): StreamSpec {
  const fields = new Map<string, unknown>();
  const metadata: Record<string, string> = {};
  const sourceOf = new Map<string, string>();
  for (const [rawKey, value] of Object.entries(values)) {
    const trimmed = rawKey.trim();
    const key = KNOWN_COLUMNS.has(trimmed.toLowerCase()) ? trimmed.toLowerCase() : trimmed;
    const other = sourceOf.get(key);
    if (other !== undefined) throw new FieldError(key, `given twice, as ${JSON.stringify(other)} and ${JSON.stringify(rawKey)}`);
    sourceOf.set(key, rawKey);
    if (FIELDS.has(key)) {
      fields.set(key, value);
      continue;
    }
    const text = cellText(key, value);
    if (text !== undefined) metadata[key] = text;
  }
  const id = cellText("id", fields.get("id"));
  const index = cellText("index", fields.get("index"));
  if (id === undefined && index === undefined) throw new FieldError("id", "missing; every row needs an id (or an index)");
  if (id !== undefined && index !== undefined) metadata.index = index;
  const spec: StreamSpec = {
    id: id ?? index ?? "",
    url: cellText("url", fields.get("url")) ?? "",
    name: cellText("name", fields.get("name")) ?? "",
    metadata,
  };
  const enabled = parseEnabled(fields.get("enabled"));
  if (enabled !== undefined) spec.enabled = enabled;
  return spec;
}

/** A cell as trimmed text; undefined when null or empty. */
function cellText(field: string, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value.trim() || undefined;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  throw new FieldError(field, `must be a string, number or boolean (got ${Array.isArray(value) ? "an array" : typeof value})`);
}

function parseEnabled(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  const word = cellText("enabled", value)?.normalize("NFC").toLowerCase();
  if (word === undefined) return undefined;
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new FieldError("enabled", `must be one of true, false, 1, 0, yes, no, sim, não (got ${JSON.stringify(word)})`);
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES") return "permission denied";
  return (error as Error).message;
}
