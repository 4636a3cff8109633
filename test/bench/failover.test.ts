import { serverUrl } from "../helpers/test-database.js";
import { benchSmokeTest } from "./smoke.js";

// Short heartbeats, lease and grace: the silent victims' failover waits for the lease.
benchSmokeTest(
  "failover",
  ["--instances", "10", "--streams", "100", "--batch", "10", "--heartbeat-interval-ms", "300", "--lease-ttl-ms", "900", "--reconnect-grace-ms", "300"],
  serverUrl(),
);
