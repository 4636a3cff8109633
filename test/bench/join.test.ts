import { serverUrl } from "../helpers/test-database.js";
import { benchSmokeTest } from "./smoke.js";

benchSmokeTest("join", ["--instances", "10", "--streams", "100", "--joins", "1", "--references", "1"], serverUrl());
