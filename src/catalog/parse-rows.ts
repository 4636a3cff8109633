import { parse } from "csv-parse/sync";

/** One row of an import file, numbered the way a person reading the file counts. */
export interface SourceRow {
  /** CSV: the line of the file where the record starts; JSON: the 1-based position in the array. */
  row: number;
  /** Column name to cell value, as found in the file. */
  values: Record<string, unknown>;
}

/** Something wrong with an import file; the message is written for the operator, one line. */
export class ImportError extends Error {
  override name = "ImportError";
}

const BOM = "\ufeff";
const LF = 0x0a;
const CR = 0x0d;

/** Parses a JSON array of row objects. */
export function parseJsonRows(text: string): SourceRow[] {
  let data: unknown;
  try {
    data = JSON.parse(text.startsWith(BOM) ? text.slice(1) : text);
  } catch (error) {
    throw new ImportError(`not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(data)) throw new ImportError("a JSON import must be an array of row objects");
  return data.map((item: unknown, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new ImportError(`row ${i + 1}: must be an object of column names to values`);
    }
    return { row: i + 1, values: item as Record<string, unknown> };
  });
}

interface CsvRecord {
  record: string[];
  info: { bytes: number };
}

/**
 * Parses CSV with a header row: quoting, BOM, CRLF, blank lines, and `;` as the
 * delimiter when the header uses it (what spreadsheets in pt-BR locales save).
 * Records whose cells are all empty are skipped: spreadsheets leave them at the end.
 */
export function parseCsvRows(input: Buffer | string): SourceRow[] {
  const buffer = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  let records: CsvRecord[];
  try {
    records = parse(buffer, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      delimiter: guessDelimiter(buffer),
    }) as unknown as CsvRecord[];
  } catch (error) {
    throw new ImportError(`not valid CSV: ${(error as Error).message}`);
  }
  const lines = startLines(buffer, records.map((r) => r.info.bytes));
  const [header, ...data] = records;
  if (!header) return [];
  const columns = headerColumns(header.record, lines[0] ?? 1);
  const rows: SourceRow[] = [];
  data.forEach(({ record }, i) => {
    const row = lines[i + 1] ?? 0;
    if (record.every((cell) => cell.trim() === "")) return;
    const values: Record<string, unknown> = {};
    record.forEach((cell, j) => {
      const column = columns[j];
      if (column) values[column] = cell;
      else if (cell.trim() !== "") {
        throw new ImportError(
          j < columns.length
            ? `row ${row}: column ${j + 1} has a value but no name in the header`
            : `row ${row}: has ${record.length} fields but the header names ${columns.length}`,
        );
      }
    });
    rows.push({ row, values });
  });
  return rows;
}

function headerColumns(names: string[], line: number): Array<string | undefined> {
  const seen = new Set<string>();
  return names.map((raw) => {
    const name = raw.trim();
    if (name === "") return undefined;
    if (seen.has(name)) throw new ImportError(`line ${line}: column ${JSON.stringify(name)} appears twice in the header`);
    seen.add(name);
    return name;
  });
}

function guessDelimiter(buffer: Buffer): string {
  const end = buffer.indexOf(LF);
  const header = buffer.subarray(0, end < 0 ? buffer.length : end).toString("utf8");
  const count = (c: string) => header.split(c).length - 1;
  return count(";") > count(",") ? ";" : ",";
}

/**
 * Line where each record starts, from the byte offsets where records end.
 * csv-parse's own `info.lines` counts CRLF inside quoted fields twice and
 * reports where a record ends, so lines are counted here instead.
 */
function startLines(buffer: Buffer, ends: number[]): number[] {
  const starts: number[] = [];
  let pos = 0;
  let line = 1;
  for (const end of ends) {
    // Blank lines the parser skipped lie between the previous record and this one.
    while (pos < end && (buffer[pos] === LF || buffer[pos] === CR)) {
      if (buffer[pos] === LF) line++;
      pos++;
    }
    starts.push(line);
    for (; pos < end; pos++) if (buffer[pos] === LF) line++;
  }
  return starts;
}
