import { serverUrl } from "../helpers/test-database.js";
import { benchSmokeTest } from "./smoke.js";

// Short windows: each closed loop keeps a core busy while it lasts, and nothing here is timed.
benchSmokeTest("transport", ["--streams", "4", "--seconds", "0.3", "--warmup-seconds", "0"], serverUrl());
