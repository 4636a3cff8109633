import { test } from "node:test";
import assert from "node:assert/strict";
import { outputLines } from "../../src/db/output-lines.js";

test("output lines: pieces of one line in separate chunks make one line, one chunk of several lines makes several", () => {
  const lines: string[] = [];
  const out = outputLines((line) => lines.push(line));
  // How initdb's error reached us when the pipe delivered its three writes apart.
  out.add("initdb: ");
  out.add("error: ");
  out.add('directory "/data/postgres" exists but is not empty\ninitdb: hint: If you want to create a new database system, ');
  assert.deepEqual(lines, ['initdb: error: directory "/data/postgres" exists but is not empty']);
  out.add("either remove or empty the directory\n\n  \nlast words");
  out.flush();
  out.flush();
  assert.deepEqual(lines, [
    'initdb: error: directory "/data/postgres" exists but is not empty',
    "initdb: hint: If you want to create a new database system, either remove or empty the directory",
    "last words",
  ]);
});
