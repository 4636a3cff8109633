import { benchSmokeTest } from "./smoke.js";

// One scenario of the planned-events benchmark, on a database and an orchestrator of its own:
// a rolling restart of three workers that leave with intent to return.
benchSmokeTest("planned", ["--only", "rolling", "--variants", "new", "--instances", "3", "--streams", "30"], undefined);
