import { serverUrl } from "../helpers/test-database.js";
import { benchSmokeTest } from "./smoke.js";

benchSmokeTest("transport", ["--streams", "4", "--seconds", "1", "--warmup-seconds", "0"], serverUrl());
