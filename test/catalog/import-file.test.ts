import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseCsvRows, parseJsonRows, readImportFile, rowsToSpecs, type SourceRow } from "../../src/catalog/import-file.js";

/** Rows numbered 1, 2, ... as a JSON array would be. */
const rows = (...values: Array<Record<string, unknown>>): SourceRow[] => values.map((v, i) => ({ row: i + 1, values: v }));
const url = "https://radio.example/live.mp3";
const one = (values: Record<string, unknown>) => rowsToSpecs(rows(values))[0];

describe("rowsToSpecs", () => {
  test("takes the id from id, stringified and trimmed, and keeps index as metadata", () => {
    assert.deepEqual(rowsToSpecs(rows({ id: 86, url, name: " Radio 86 ", index: 3 }, { id: " 87 ", url })), [
      { id: "86", url, name: "Radio 86", metadata: { index: "3" } },
      { id: "87", url, name: "", metadata: {} },
    ]);
  });

  test("falls back to index when id is absent or empty, and then index is not metadata", () => {
    assert.deepEqual(one({ index: 12, url }), { id: "12", url, name: "", metadata: {} });
    assert.deepEqual(one({ id: "", index: "13", url }), { id: "13", url, name: "", metadata: {} });
    assert.equal(one({ id: null, index: 14, url })?.id, "14");
  });

  test("a row with neither id nor index fails naming the row", () => {
    assert.throws(() => rowsToSpecs(rows({ id: 1, url }, { url, name: "x" })), { name: "ImportError", message: /^row 2: id: missing/ });
  });

  test("known columns and every extra column go to metadata as strings, empty ones skipped", () => {
    const spec = one({
      id: 1, url, name: "One", sheet: "Plan1", Cidade: "Recife", ESTADO: "PE", regiao: "", segmento: null,
      frequencia: 98.5, ao_vivo: true, " notes ": " hi ", blank: "   ",
    });
    assert.deepEqual(spec?.metadata, { sheet: "Plan1", cidade: "Recife", estado: "PE", frequencia: "98.5", ao_vivo: "true", notes: "hi" });
  });

  test("column names of the table are matched whatever their case", () => {
    assert.deepEqual(one({ ID: 5, URL: url, Name: "Five" }), { id: "5", url, name: "Five", metadata: {} });
    assert.throws(() => one({ id: 5, ID: 6, url }), { message: /^row 1: id: given twice, as "id" and "ID"/ });
  });

  test("enabled accepts true/false/1/0/yes/no/sim/não and is absent when not given", () => {
    const cases: Array<[unknown, boolean]> = [
      [true, true], ["TRUE", true], [1, true], ["1", true], ["yes", true], [" Sim ", true],
      [false, false], ["false", false], [0, false], ["0", false], ["No", false], ["não", false], ["NÃO", false], ["nao", false],
      ["na\u0303o", false], // "não" with a combining tilde, as some editors save it
    ];
    for (const [value, expected] of cases) assert.equal(one({ id: 1, url, enabled: value })?.enabled, expected, `enabled=${JSON.stringify(value)}`);
    assert.equal("enabled" in one({ id: 1, url })!, false);
    assert.equal("enabled" in one({ id: 1, url, enabled: "" })!, false);
  });

  test("any other enabled value fails naming the row", () => {
    assert.throws(() => rowsToSpecs(rows({ id: 1, url }, { id: 2, url, enabled: "maybe" })), {
      message: 'row 2: enabled: must be one of true, false, 1, 0, yes, no, sim, não (got "maybe")',
    });
    assert.throws(() => one({ id: 1, url, enabled: 2 }), { message: /^row 1: enabled: must be one of .*\(got "2"\)$/ });
  });

  test("errors carry the row number the file gives, with the server's own rules", () => {
    const numbered = [
      { row: 2, values: { id: 1, url } },
      { row: 7, values: { id: 2, url: "ftp://radio.example/x" } },
    ];
    assert.throws(() => rowsToSpecs(numbered), { message: /^row 7: url: scheme must be one of http, https, .* \(got ftp\)$/ });
    assert.throws(() => one({ id: 1, url: "" }), { message: "row 1: url: must not be empty" });
    assert.throws(() => one({ id: "x".repeat(129), url }), { message: /^row 1: id: must be at most 128 characters/ });
    assert.throws(() => one({ id: 1, url, name: "n".repeat(257) }), { message: "row 1: name: must be at most 256 characters" });
    assert.throws(() => one({ id: 1, url, notes: "v".repeat(1025) }), { message: /^row 1: metadata\["notes"\]: values must be at most 1024/ });
    assert.throws(() => one({ id: 1, url, tags: ["a"] }), { message: "row 1: tags: must be a string, number or boolean (got an array)" });
  });

  test("a duplicate id fails naming both rows, numbers and strings alike", () => {
    const input = rows({ id: 86, url }, { id: 87, url }, { id: " 86", url });
    assert.throws(() => rowsToSpecs(input), { message: 'row 3: id "86" duplicates row 1' });
    assert.throws(() => rowsToSpecs(rows({ index: 4, url }, { id: 4, url })), { message: 'row 2: id "4" duplicates row 1' });
  });

  test("accepts 10000 rows and refuses 10001 or none", () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ row: i + 1, values: { id: i, url } }));
    assert.equal(rowsToSpecs(many(10_000)).length, 10_000);
    assert.throws(() => rowsToSpecs(many(10_001)), { message: /10001 rows; at most 10000/ });
    assert.throws(() => rowsToSpecs([]), { message: /no rows/ });
  });
});

describe("parseCsvRows", () => {
  test("handles quoting, a BOM and CRLF", () => {
    const csv = '\ufeffid,url,name\r\n1,http://a.example/x,"Radio ""Um"", FM"\r\n2,http://b.example/y,"two\r\nlines"\r\n';
    assert.deepEqual(parseCsvRows(csv), [
      { row: 2, values: { id: "1", url: "http://a.example/x", name: 'Radio "Um", FM' } },
      { row: 3, values: { id: "2", url: "http://b.example/y", name: "two\r\nlines" } },
    ]);
  });

  test("numbers rows by the line where they start, past blank lines and multi-line cells", () => {
    const csv = "id,url,name\r\n\r\n1,http://a.example,\"x\r\ny\r\nz\"\r\n\r\n2,http://b.example,b\r\n,,\r\n3,http://c.example,c";
    assert.deepEqual(parseCsvRows(Buffer.from(csv)).map((r) => [r.row, r.values.id]), [[3, "1"], [7, "2"], [9, "3"]]);
    const lf = "id,url\n1,http://a.example\n\n\n2,ftp://b.example\n";
    assert.throws(() => rowsToSpecs(parseCsvRows(lf)), { message: /^row 5: url: scheme must be one of/ });
  });

  test("skips rows whose cells are all empty and fills missing trailing cells with empty values", () => {
    assert.deepEqual(parseCsvRows("id,url,name\n1,http://a.example\n , ,\n"), [{ row: 2, values: { id: "1", url: "http://a.example" } }]);
  });

  test("uses ; as the delimiter when the header does", () => {
    assert.deepEqual(parseCsvRows("id;url;name\n1;http://a.example/x;Rádio, Um\n")[0]?.values, { id: "1", url: "http://a.example/x", name: "Rádio, Um" });
  });

  test("rejects malformed files naming the line", () => {
    assert.throws(() => parseCsvRows("id,url\n1,http://a.example,extra\n"), { message: "row 2: has 3 fields but the header names 2" });
    assert.throws(() => parseCsvRows("id,,url\n1,x,http://a.example\n"), { message: "row 2: column 2 has a value but no name in the header" });
    assert.throws(() => parseCsvRows("id,url,id\n"), { message: 'line 1: column "id" appears twice in the header' });
    assert.throws(() => parseCsvRows('id,url\n1,"http://a.example\n'), { message: /^not valid CSV: Quote Not Closed/ });
  });
});

describe("parseJsonRows", () => {
  test("numbers rows by their 1-based position and tolerates a BOM", () => {
    assert.deepEqual(parseJsonRows('\ufeff[{"id":1},{"id":"2"}]'), [
      { row: 1, values: { id: 1 } },
      { row: 2, values: { id: "2" } },
    ]);
  });

  test("rejects what is not an array of objects", () => {
    assert.throws(() => parseJsonRows('{"streams":[]}'), { message: "a JSON import must be an array of row objects" });
    assert.throws(() => parseJsonRows('[{"id":1}, 2]'), { message: /^row 2: must be an object/ });
    assert.throws(() => parseJsonRows("[{"), { message: /^not valid JSON: / });
  });
});

describe("readImportFile", () => {
  test("chooses the parser by extension and refuses others, unreadable and non-UTF-8 files", async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "import-file-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, content: string | Buffer) => {
      writeFileSync(path.join(dir, name), content);
      return path.join(dir, name);
    };
    assert.deepEqual(await readImportFile(write("a.CSV", "id,url\n1,x\n")), [{ row: 2, values: { id: "1", url: "x" } }]);
    assert.deepEqual(await readImportFile(write("a.json", '[{"id":1}]')), [{ row: 1, values: { id: 1 } }]);
    await assert.rejects(readImportFile(write("a.txt", "")), { message: /a\.txt: unsupported file type "\.txt"; use a \.csv or \.json file$/ });
    await assert.rejects(readImportFile(path.join(dir, "missing.csv")), { message: /^cannot read .*missing\.csv: no such file$/ });
    await assert.rejects(readImportFile(write("latin1.csv", Buffer.from("id,url,cidade\n1,x,S\xe3o Paulo\n", "latin1"))), { message: /is not UTF-8 text/ });
  });
});
