import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, loadConfig, redactUrl } from "../../src/config/config.js";
import { encodeResponse, GRPC_FRAME_HEADER_BYTES } from "../../src/grpc/connect-service.js";

describe("configuration", () => {
  test("defaults: embedded database under ./data, gRPC 50051, HTTP 8080", () => {
    const config = loadConfig({}, false);
    assert.deepEqual(config.database, { kind: "embedded", dataDir: "./data", port: 5433 });
    assert.equal(config.grpcPort, 50051);
    assert.equal(config.httpPort, 8080);
    assert.equal(config.logFormat, "json");
    assert.equal(config.leaseTtlMs, 6_000);
    assert.equal(config.heartbeatIntervalMs, 2_000);
    assert.equal(config.reconnectGraceMs, 3_000);
    assert.equal(config.suspectAfterMs, 3_000);
  });

  test("an instance is suspect after one heartbeat and a half, never later than its lease", () => {
    assert.equal(loadConfig({ HEARTBEAT_INTERVAL_MS: "1000", LEASE_TTL_MS: "3000" }, false).suspectAfterMs, 1_500);
    assert.equal(loadConfig({ HEARTBEAT_INTERVAL_MS: "1000", LEASE_TTL_MS: "1200" }, false).suspectAfterMs, 1_200);
    assert.equal(loadConfig({ SUSPECT_AFTER_MS: "5000" }, false).suspectAfterMs, 5_000);
    assert.throws(() => loadConfig({ SUSPECT_AFTER_MS: "2000" }, false), /SUSPECT_AFTER_MS=2000: must be larger than HEARTBEAT_INTERVAL_MS=2000/);
    assert.throws(() => loadConfig({ SUSPECT_AFTER_MS: "7000" }, false), /SUSPECT_AFTER_MS=7000.*at most LEASE_TTL_MS=6000/);
    assert.throws(() => loadConfig({ SUSPECT_AFTER_MS: "soon" }, false), /SUSPECT_AFTER_MS="soon"/);
  });

  test("database calls are bounded on the client a little above the statement timeout, admin calls by ADMIN_CALL_TIMEOUT_MS", () => {
    const defaults = loadConfig({}, false);
    assert.equal(defaults.dbQueryTimeoutMs, 35_000);
    assert.equal(defaults.adminCallTimeoutMs, 10_000);
    assert.equal(loadConfig({ DB_STATEMENT_TIMEOUT_MS: "2000" }, false).dbQueryTimeoutMs, 7_000);
    assert.equal(loadConfig({ DB_STATEMENT_TIMEOUT_MS: "2000", DB_QUERY_TIMEOUT_MS: "2500" }, false).dbQueryTimeoutMs, 2_500);
    assert.throws(() => loadConfig({ DB_QUERY_TIMEOUT_MS: "30000" }, false), /DB_QUERY_TIMEOUT_MS=30000: must be larger than DB_STATEMENT_TIMEOUT_MS=30000/);
    assert.throws(() => loadConfig({ DB_QUERY_TIMEOUT_MS: "soon" }, false), /DB_QUERY_TIMEOUT_MS="soon": must be a whole number of milliseconds/);
    assert.throws(() => loadConfig({ ADMIN_CALL_TIMEOUT_MS: "0" }, false), /ADMIN_CALL_TIMEOUT_MS="0": must be at least 1 ms/);
  });

  test("the fleet's expected size is unknown by default and must be a whole number", () => {
    assert.equal(loadConfig({}, false).placementSettle.expectedInstances, 0);
    assert.equal(loadConfig({ PLACEMENT_EXPECTED_INSTANCES: "30" }, false).placementSettle.expectedInstances, 30);
    assert.throws(() => loadConfig({ PLACEMENT_EXPECTED_INSTANCES: "-1" }, false), /PLACEMENT_EXPECTED_INSTANCES="-1": must not be negative/);
    assert.throws(() => loadConfig({ PLACEMENT_EXPECTED_INSTANCES: "thirty" }, false), /PLACEMENT_EXPECTED_INSTANCES="thirty": must be a whole number/);
  });

  test("a session's outbound queue holds 16 MiB by default, set in bytes by SESSION_QUEUE_LIMIT_BYTES", () => {
    assert.equal(loadConfig({}, false).sessionQueueLimitBytes, 16_777_216);
    assert.equal(loadConfig({ SESSION_QUEUE_LIMIT_BYTES: "65536" }, false).sessionQueueLimitBytes, 65_536);
    assert.throws(() => loadConfig({ SESSION_QUEUE_LIMIT_BYTES: "16MiB" }, false), (e: Error) => e instanceof ConfigError && /^invalid SESSION_QUEUE_LIMIT_BYTES="16MiB": must be a whole number of bytes$/.test(e.message));
    assert.throws(() => loadConfig({ SESSION_QUEUE_LIMIT_BYTES: "1.5" }, false), /SESSION_QUEUE_LIMIT_BYTES="1.5": must be a whole number of bytes/);
    assert.throws(() => loadConfig({ SESSION_QUEUE_LIMIT_BYTES: "16" }, false), /SESSION_QUEUE_LIMIT_BYTES="16": must be at least 65536 \(64 KiB\)/);
    assert.throws(() => loadConfig({ SESSION_QUEUE_LIMIT_BYTES: "2147483648" }, false), /SESSION_QUEUE_LIMIT_BYTES="2147483648": must be at most 1073741824 \(1 GiB\)/);
  });

  test("the default queue limit holds a full assignment of 10,000 streams with long URLs and metadata", () => {
    const add = Array.from({ length: 10_000 }, (_, i) => {
      const id = `3f6c2a9e-1b7d-4c4e-9a51-${String(i).padStart(12, "0")}`;
      const url = `https://stream.radio-network.example.com/live/${id}/playlist.m3u8?quality=high&token=${"t".repeat(120)}`;
      const metadata = Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`key_${k}`, "v".repeat(40)]));
      return { id, url, name: `Radio Station Number ${i} FM - The Best Music`, metadata, epoch: 1_000_000 + i };
    });
    const bytes = encodeResponse({ msg: { $case: "assignment", value: { seq: 1, full: true, add, remove: [] } } }).byteLength + GRPC_FRAME_HEADER_BYTES;
    const limit = loadConfig({}, false).sessionQueueLimitBytes;
    assert.ok(bytes > 8_000_000 && bytes < limit / 1.5, `a full set of ${bytes} bytes against a limit of ${limit}`);
  });

  test("a terminal gets pretty logs unless in production", () => {
    assert.equal(loadConfig({}, true).logFormat, "pretty");
    assert.equal(loadConfig({ NODE_ENV: "production" }, true).logFormat, "json");
  });

  test("the legacy POSTGRES_* variables build the database URL", () => {
    const config = loadConfig({
      POSTGRES_HOST: "db",
      POSTGRES_PORT: "6543",
      POSTGRES_USER: "radio",
      POSTGRES_PASSWORD: "p@ss word",
      POSTGRES_DB: "radio_db",
    }, false);
    assert.deepEqual(config.database, { kind: "url", url: "postgres://radio:p%40ss%20word@db:6543/radio_db" });
  });

  test("a bad value names the variable and the rule", () => {
    assert.throws(() => loadConfig({ GRPC_PORT: "abc" }, false), (e: Error) => e instanceof ConfigError && /GRPC_PORT="abc"/.test(e.message) && /port/.test(e.message));
    assert.throws(() => loadConfig({ HTTP_PORT: "70000" }, false), /HTTP_PORT="70000"/);
    assert.throws(() => loadConfig({ LOG_LEVEL: "loud" }, false), /LOG_LEVEL/);
    assert.throws(() => loadConfig({ DATABASE_URL: "mysql://x" }, false), /DATABASE_URL=\(hidden\).*postgres:\/\//);
    assert.throws(() => loadConfig({ LEASE_TTL_MS: "1000", HEARTBEAT_INTERVAL_MS: "5000" }, false), /LEASE_TTL_MS=1000.*HEARTBEAT_INTERVAL_MS/);
    assert.throws(() => loadConfig({ DATABASE_URL: "postgres://x/y", POSTGRES_HOST: "db" }, false), /either DATABASE_URL or POSTGRES_HOST/);
  });

  test("passwords never appear in errors or logged URLs", () => {
    assert.throws(() => loadConfig({ POSTGRES_PASSWORD: "secret", POSTGRES_PORT: "x" }, false), (e: Error) => !e.message.includes("secret"));
    assert.equal(redactUrl("postgres://u:secret@h:1/d"), "postgres://u:***@h:1/d");
  });
});
