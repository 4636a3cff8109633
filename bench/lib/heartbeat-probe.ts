/**
 * Heartbeat latency probe, run as a child process next to a benchmark's load
 * fleet: `node --import tsx bench/lib/heartbeat-probe.ts` with PROBE_ADDRESS,
 * PROBE_COUNT, PROBE_PREFIX, PROBE_CAPACITY, PROBE_INTERVAL_MS and PROBE_SETTLE_MS
 * (how long no assignment must arrive before it says it is ready).
 *
 * One harness process driving thousands of sessions stalls now and then (its
 * own timers, keepalives and parsing batch up on two shared cores), and every
 * heartbeat in flight during a stall looks slow although the server answered
 * at once. A real instance is a light process with one session, so the round
 * trip we report is measured here, in a process with a few sessions only,
 * while the load fleet elsewhere produces the traffic.
 *
 * Protocol on stdout: "probe ready" once its instances are welcome and hold
 * their streams; SIGUSR1 starts the window, SIGUSR2 ends it and prints
 * "PROBE_RESULT <json>" (round trips of the heartbeats sent inside the window,
 * and this process's own event-loop delay, in ms).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Channels } from "./load-instance.js";
import { RoundTripWindow, LoadFleet } from "./load-fleet.js";
import { summarize } from "./report.js";

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const count = Number(env("PROBE_COUNT", "100"));
const intervalMs = Number(env("PROBE_INTERVAL_MS", "1000"));
const fleet = new LoadFleet(new Channels(env("PROBE_ADDRESS"), 1));
const members = Array.from({ length: count }, (_, i) => fleet.add(`${env("PROBE_PREFIX", "probe")}-${String(i).padStart(4, "0")}`, Number(env("PROBE_CAPACITY", "10"))));

const window = new RoundTripWindow(fleet);
const loop = monitorEventLoopDelay({ resolution: 5 });

process.on("SIGUSR1", () => {
  window.open();
  loop.enable();
});
process.on("SIGUSR2", () => {
  const closedAt = performance.now();
  window.close(closedAt);
  loop.disable();
  const sent = members.reduce((n, m) => n + m.heartbeatsSent, 0);
  // Acks of the window's last heartbeats may still be on their way.
  void fleet.answered(closedAt, 1_000).then(() => {
    const result = { rtt: summarize(window.rtts), acked: window.rtts.length, sent, lost: fleet.sessionsLost, loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 };
    process.stdout.write(`PROBE_RESULT ${JSON.stringify(result)}\n`);
  });
});
process.on("SIGTERM", () => {
  fleet.close();
  process.exit(0);
});

await fleet.connectAll(members, 20, (m) => m.heartbeatEvery(intervalMs));
// Joining instances take their share of streams through moves; wait until those are done.
await fleet.quiet(Number(env("PROBE_SETTLE_MS", "1000")), 60_000);
process.stdout.write("probe ready\n");
