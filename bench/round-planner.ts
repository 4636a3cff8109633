/**
 * `npm run bench:round`: the coordinator's whole planning step (fleet in
 * memory -> typed arrays -> scheduler -> ids), which is what one scheduling
 * round costs before any I/O, next to the pure scheduler alone on the same
 * fleet. Prints a table; not a test.
 */
import os from "node:os";
import { Fleet } from "../src/coordinator/fleet.js";
import { Instance } from "../src/coordinator/instance.js";
import { planRound } from "../src/coordinator/round-planner.js";
import { SessionOutbox } from "../src/coordinator/session-outbox.js";
import type { SessionHandle } from "../src/coordinator/types.js";
import { plan } from "../src/scheduler/plan.js";

const session = { sessionId: "bench", peer: "bench" } as SessionHandle;

/** A connected instance (its session sends nothing anywhere). */
function connected(id: string, capacity: number): Instance {
  const instance = Instance.register(id, 0, 0);
  instance.connect(new SessionOutbox(session), { instanceId: id, capacity, held: [], labels: {}, version: "" }, 0, 0);
  return instance;
}

function fleetOf(streams: number, instances: number): Fleet {
  const fleet = new Fleet();
  for (let i = 0; i < instances; i++) {
    fleet.add(connected(`instance-${i}`, Math.ceil((streams / instances) * 1.5)));
  }
  for (let s = 0; s < streams; s++) {
    const id = `stream-${s}`;
    fleet.catalog.set(id, { id, url: `http://radio.example/${s}`, name: id, metadata: {}, enabled: true });
    fleet.setOwner(id, { instanceId: `instance-${s % instances}`, epoch: s + 1, revoking: false });
  }
  return fleet;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(fn: () => void, runs: number): number {
  // As many warm-up runs as timed ones: with only a few, the small sizes timed code V8 had not optimized yet.
  for (let i = 0; i < runs; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(samples);
}

console.log(`machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, node ${process.version}`);
console.log("times in ms, median of timed runs after warm-up; balanced fleet, one join");
console.log("  streams  instances  planRound (ids)  plan() alone  overhead");
for (const [streams, instances] of [[10_000, 100], [100_000, 1_000], [1_000_000, 10_000]] as const) {
  const fleet = fleetOf(streams, instances);
  fleet.add(connected("joiner", Math.ceil(streams / instances)));
  const runs = streams >= 1_000_000 ? 5 : 20;
  const whole = time(() => planRound(fleet, Infinity), runs);
  const owner = new Int32Array(streams).map((_, s) => s % instances);
  const capacity = new Uint32Array(instances + 1).fill(Math.ceil((streams / instances) * 1.5));
  const flags = new Uint8Array(instances + 1).fill(1);
  const pure = time(() => plan({ capacity, eligible: flags, live: flags, owner, maxLiveMoves: Infinity }), runs);
  console.log(
    `${streams.toLocaleString("en").padStart(9)}  ${instances.toLocaleString("en").padStart(9)}  ${whole.toFixed(2).padStart(15)}  ${pure.toFixed(2).padStart(12)}  ${(whole / pure).toFixed(1).padStart(7)}x`,
  );
}
