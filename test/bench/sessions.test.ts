import { serverUrl } from "../helpers/test-database.js";
import { benchSmokeTest } from "./smoke.js";

benchSmokeTest("sessions", ["--instances", "20", "--streams", "40", "--seconds", "1", "--warmup-seconds", "0"], serverUrl());
