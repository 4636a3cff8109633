import { queryRows, serverUrl } from "../helpers/test-database.js";
import { benchSmokeTest } from "./smoke.js";

// The benchmark reads pg_stat_statements, which only a server that preloads it has (the
// one `npm test` starts does); on another server it starts an embedded cluster of its own.
const preloaded = await queryRows<{ preload: string }>(serverUrl(), "select current_setting('shared_preload_libraries') as preload");
const databaseUrl = /\bpg_stat_statements\b/.test(preloaded[0]!.preload) ? serverUrl() : "embedded";

// Short heartbeats and lease: each death waits for the lease.
benchSmokeTest(
  "database",
  ["--heartbeat-instances", "5", "--heartbeat-seconds", "1", "--heartbeat-streams", "20", "--fleet", "5", "--sizes", "20,40", "--heartbeat-interval-ms", "300", "--lease-ttl-ms", "900", "--reconnect-grace-ms", "300"],
  databaseUrl,
);
