import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Refusals } from "../../src/auth/refusals.js";

test("refusals are all counted, and logged at most once a minute per peer address (any port)", () => {
  let now = 0;
  const counted: string[] = [];
  const lines: string[] = [];
  const logger = pino({ level: "warn" }, new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }));
  const refusals = new Refusals((service, reason) => counted.push(`${service}/${reason}`), logger, () => now);
  for (let i = 0; i < 50; i++) refusals.report(`10.0.0.1:${4000 + i}`, "orchestrator.v1.AdminService", "unknown", "authorization: the token is not valid");
  refusals.report("10.0.0.2:5000", "http", "missing", "authorization: this call needs a viewer or admin token");
  assert.equal(counted.length, 51);
  assert.equal(lines.length, 2, "one line for each peer");
  now += 59_000;
  refusals.report("10.0.0.1:4100", "orchestrator.v1.AdminService", "unknown", "again");
  assert.equal(lines.length, 2, "still within the minute");
  now += 1_000;
  refusals.report("10.0.0.1:4101", "orchestrator.v1.AdminService", "unknown", "again");
  assert.equal(lines.length, 3, "a minute later it is logged again");
  assert.match(lines[2]!, /"peer":"10\.0\.0\.1:4101".*further refusals of this peer within a minute are only counted/);
});
