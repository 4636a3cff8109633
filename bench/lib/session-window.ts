/**
 * One measured window of the sessions benchmark (bench/sessions.ts): after a
 * warm-up, the server's and the database's CPU and memory, the harness's own
 * CPU and event-loop delay, the heartbeat round trips seen by the probe and by
 * the load fleet, and, for the orchestrator, what its /metrics say.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { LoadInstance } from "./load-instance.js";
import { RoundTripWindow, type LoadFleet } from "./load-fleet.js";
import type { ProbeChild, ProbeResult } from "./probe-child.js";
import { ProcessWindow, SelfCpu, memory } from "./proc.js";
import { metricValue } from "./process.js";
import { summarize } from "./report.js";
import { sleep } from "../../test/helpers/wait.js";

export interface WindowResult {
  server: string;
  sessions: number;
  channels: number;
  heartbeatsPerSecond: number;
  /** Round trips seen by the probe process. */
  rtt: ReturnType<typeof summarize>;
  /** Round trips seen by the harness process driving the load fleet. */
  loadRtt: ReturnType<typeof summarize>;
  unanswered: number;
  serverCpu: number;
  maxRss: number;
  peakRss: number;
  dbCpu: number;
  clientCpu: number;
  clientLoopP99: number;
  clientLoopMax: number;
  probe: ProbeResult;
  /** The orchestrator's own event-loop delay over the window (from its /metrics), NaN for the echo. */
  serverLoopP99: number;
  serverLoopMax: number;
  /** V8 heap in use and external (Buffer) memory at the end of the window, from /metrics (NaN for the echo). */
  heapUsed: number;
  /** Major (mark-compact) collections in the window and the time all collections paused it, from /metrics. */
  majorGcs: number;
  gcSeconds: number;
  external: number;
  lost: number;
  rampMs: number;
  /** Resident memory before the first session connected. */
  idleRss: number;
}

/** The server under measurement and the sessions on it. */
export interface WindowTarget {
  server: string;
  fleet: LoadFleet;
  members: LoadInstance[];
  probe: ProbeChild;
  serverPid: number;
  /** The database's postmaster, when the run has a cluster of its own. */
  postmasterPid?: number;
  /** How long the sessions took to connect. */
  rampMs: number;
  idleRss: number;
  /** Reads the server's /metrics (the orchestrator's; none for the echo). */
  metrics?: () => Promise<string>;
}

/** The benchmark's flags the window depends on. */
export interface WindowTiming {
  warmupSeconds: number;
  seconds: number;
  /** Instances run by the probe process, which are not in `members`. */
  probes: number;
  heartbeatIntervalMs: number;
}

/** Measures one window on `target`: `timing.warmupSeconds` of heartbeats first, then `timing.seconds` measured. */
export async function measureWindow(target: WindowTarget, timing: WindowTiming): Promise<WindowResult> {
  const { server, fleet, members, probe, serverPid, postmasterPid, rampMs, idleRss, metrics } = target;
  await sleep(timing.warmupSeconds * 1000);
  // Reading /metrics resets its event-loop delay histogram: the next read covers the window alone.
  const before = (await metrics?.()) ?? "";
  const window = new RoundTripWindow(fleet);
  const sent = () => members.reduce((n, m) => n + m.heartbeatsSent, 0);
  const lostBefore = fleet.sessionsLost;
  const sentBefore = sent();
  const proc = new ProcessWindow(serverPid, 200);
  const db = postmasterPid ? new ProcessWindow(postmasterPid, 1_000, true) : undefined;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  proc.start();
  db?.start();
  loop.enable();
  const self = new SelfCpu();
  const started = performance.now();
  window.open(started);
  probe.startWindow();
  await sleep(timing.seconds * 1000);
  const sentInWindow = sent() - sentBefore;
  const windowEnd = performance.now();
  window.close(windowEnd);
  const probed = probe.endWindow();
  const elapsed = (windowEnd - started) / 1000;
  proc.stop();
  db?.stop();
  loop.disable();
  const clientCpu = self.percent();
  const after = metrics ? await metrics() : "";
  // Acks of the window's last heartbeats may still be on their way.
  await fleet.answered(windowEnd, 1_000);
  fleet.on({});
  const probeResult = await probed;
  return {
    server,
    sessions: members.length + timing.probes,
    channels: fleet.channels.all.length,
    heartbeatsPerSecond: sentInWindow / elapsed + timing.probes * (1_000 / timing.heartbeatIntervalMs),
    rtt: probeResult.rtt,
    loadRtt: summarize(window.rtts),
    unanswered: Math.max(0, sentInWindow - window.rtts.length),
    serverCpu: proc.cpuPercent,
    maxRss: proc.maxRss,
    peakRss: memory(serverPid).hwm,
    dbCpu: db?.cpuPercent ?? Number.NaN,
    clientCpu,
    clientLoopP99: loop.percentile(99) / 1e6,
    clientLoopMax: loop.max / 1e6,
    probe: probeResult,
    serverLoopP99: metrics ? metricValue(after, "finger_nodejs_eventloop_lag_p99_seconds") * 1000 : Number.NaN,
    serverLoopMax: metrics ? metricValue(after, "finger_nodejs_eventloop_lag_max_seconds") * 1000 : Number.NaN,
    heapUsed: metrics ? metricValue(after, "finger_nodejs_heap_size_used_bytes") : Number.NaN,
    majorGcs: metrics ? gcDelta(before, after, "_count", 'kind="major"') : Number.NaN,
    gcSeconds: metrics ? gcDelta(before, after, "_sum") : Number.NaN,
    external: metrics ? metricValue(after, "finger_nodejs_external_memory_bytes") : Number.NaN,
    lost: fleet.sessionsLost - lostBefore + probeResult.lost,
    rampMs,
    idleRss,
  };
}

function gcDelta(before: string, after: string, suffix: string, labels = ""): number {
  const name = `finger_nodejs_gc_duration_seconds${suffix}`;
  return metricValue(after, name, labels) - metricValue(before, name, labels);
}
