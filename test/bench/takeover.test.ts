import { serverUrl } from "../helpers/test-database.js";
import { benchSmokeTest } from "./smoke.js";

// Three replicas, one leader kill: the survivors' election, the fleet's return and the killed one's restart.
benchSmokeTest("takeover", ["--instances", "20", "--streams", "200", "--kills", "1", "--pause-ms", "0"], serverUrl());
