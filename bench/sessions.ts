/**
 * Sessions benchmark: `node --import tsx bench/sessions.ts [--quick]`.
 *
 * 10,000 concurrent instances (each on its own connection by default), every one
 * heartbeating once a second with a seq, for N seconds, against an orchestrator
 * child process on embedded PostgreSQL. Reports the orchestrator's CPU (over the
 * measured window, bench/lib/session-window.ts) and resident memory (peak), and
 * the heartbeat round trip (client-measured via heartbeat_ack). Connections ramp up with a bounded
 * number of hellos in flight, so the hello storm does not dominate. The round
 * trip is measured by a separate probe process (bench/lib/heartbeat-probe.ts)
 * running `--probes` of the instances, because the harness process that drives
 * the rest stalls now and then under its own load; the harness's own view is
 * printed alongside ("load rtt"). The reference
 * is the same harness, sizes and rate against a bare grpc-js server with the
 * orchestrator's channel options (bench/lib/echo-server.ts): what the transport
 * alone costs.
 */
import os from "node:os";
import { DATABASE_FLAGS, parseArgs, TIMING_FLAGS } from "./lib/args.js";
import { Channels } from "./lib/load-instance.js";
import { LoadFleet } from "./lib/load-fleet.js";
import { startBenchPostgres } from "./lib/postgres.js";
import { startProbe, type ProbeChild } from "./lib/probe-child.js";
import { memory } from "./lib/proc.js";
import { runMain, startEchoServer, type NodeChild } from "./lib/process.js";
import { finish, int, mib, ms, printHeader, printTable, type TargetResult } from "./lib/report.js";
import { autoCapacity, balancedFleet, orchestratorOnFreshDatabase } from "./lib/scenario.js";
import { measureWindow, type WindowResult } from "./lib/session-window.js";

const { quick, flags } = parseArgs("sessions", "Many concurrent sessions heartbeating: orchestrator CPU and memory, heartbeat round trip.", {
  instances: { help: "concurrent instances (sessions)", full: 10_000, quick: 500 },
  seconds: { help: "length of the measured window", full: 30, quick: 5 },
  warmupSeconds: { help: "steady heartbeating before the window", full: 3, quick: 1 },
  streams: { help: "streams in the catalog (placed before measuring)", full: 20_000, quick: 1_000 },
  ...TIMING_FLAGS,
  ...DATABASE_FLAGS,
  perChannel: { help: "sessions per channel (1: a TCP connection per instance)", full: 1 },
  batch: { help: "hellos in flight during the ramp", full: 500, quick: 100 },
  probes: { help: "instances run by the separate latency probe process (counted in --instances)", full: 100, quick: 5 },
  probeSettleMs: { help: "the probe is ready once its instances got no assignment for this long (their share moves to them first)", full: 1_000, quick: 300 },
  orchestrator: { help: "measure the orchestrator (0: skip, e.g. to look at the echo alone)", full: 1 },
  echo: { help: "also measure the bare echo server as the reference (0: skip)", full: 1 },
  serverNice: {
    help: "nice value of the server under test and the probe (the harness stays at 0): on a real fleet the clients do not share the server's cores",
    full: -5,
  },
  p99TargetMs: { help: "heartbeat round-trip p99 target", full: 50 },
  rssTargetMib: { help: "resident memory target", full: 1_024 },
});

async function orchestratorRun(): Promise<WindowResult> {
  const pg = await startBenchPostgres(flags.databaseUrl);
  const orchestrator = await orchestratorOnFreshDatabase(pg, "sessions", {
    HEARTBEAT_INTERVAL_MS: flags.heartbeatIntervalMs,
    LEASE_TTL_MS: flags.leaseTtlMs,
    RECONNECT_GRACE_MS: flags.reconnectGraceMs,
  });
  favour(orchestrator.pid);
  const idleRss = memory(orchestrator.pid).rss;
  console.log(`[orchestrator] pid ${orchestrator.pid} on ${orchestrator.grpcAddress}, idle RSS ${mib(idleRss)}`);
  const { fleet, members, admin, connectMs } = await balancedFleet({
    address: orchestrator.grpcAddress,
    instances: flags.instances - flags.probes,
    capacity: autoCapacity(flags.streams, flags.instances, 0),
    streams: flags.streams,
    perChannel: flags.perChannel,
    batch: flags.batch,
    heartbeatMs: flags.heartbeatIntervalMs,
    log: (line) => console.log(`[orchestrator] ${line}`),
  });
  let probe: ProbeChild | undefined;
  try {
    probe = await startProbe(orchestrator.grpcAddress, flags.probes, "probe", autoCapacity(flags.streams, flags.instances, 0), flags.heartbeatIntervalMs, flags.probeSettleMs);
    favour(probe.pid);
    console.log(`[orchestrator] probe: ${flags.probes} instances in their own process, welcome and settled`);
    const result = await measureWindow(
      { server: "orchestrator", fleet, members, probe, serverPid: orchestrator.pid, postmasterPid: pg.postmasterPid, rampMs: connectMs, idleRss, metrics: orchestrator.metrics },
      flags,
    );
    const lostTotal = fleet.sessionsLost;
    if (lostTotal) console.log(`[orchestrator] ${lostTotal} sessions ended by the server during the run, e.g. ${members.find((m) => m.endReason)?.endReason}`);
    return result;
  } finally {
    await probe?.stop();
    fleet.close();
    admin.close();
    await orchestrator.stop();
    await pg.stop();
  }
}

async function echoRun(): Promise<WindowResult> {
  const echo: NodeChild & { address: string } = await startEchoServer(Math.round(flags.streams / flags.instances));
  favour(echo.pid);
  const idleRss = memory(echo.pid).rss;
  console.log(`[echo] pid ${echo.pid} on ${echo.address}, idle RSS ${mib(idleRss)}`);
  const fleet = new LoadFleet(new Channels(echo.address, flags.perChannel));
  const members = Array.from({ length: flags.instances - flags.probes }, (_, i) => fleet.add(`echo-${i}`, 10));
  let probe: ProbeChild | undefined;
  try {
    const ramp = await fleet.connectAll(members, flags.batch, (m) => m.heartbeatEvery(flags.heartbeatIntervalMs));
    console.log(`[echo] ${members.length.toLocaleString("en-US")} sessions connected in ${(ramp.ms / 1000).toFixed(1)} s (${ramp.perSecond.toFixed(0)}/s)`);
    probe = await startProbe(echo.address, flags.probes, "probe", 10, flags.heartbeatIntervalMs, flags.probeSettleMs);
    favour(probe.pid);
    return await measureWindow({ server: "bare echo", fleet, members, probe, serverPid: echo.pid, rampMs: ramp.ms, idleRss }, flags);
  } finally {
    await probe?.stop();
    fleet.close();
    await echo.stop();
  }
}

/** Gives a process under measurement priority over the harness (needs root to go below 0; skipped otherwise). */
function favour(pid: number): void {
  try {
    os.setPriority(pid, flags.serverNice);
  } catch (error) {
    console.log(`cannot set nice ${flags.serverNice} for pid ${pid}: ${(error as Error).message}; measuring without`);
  }
}

const perSession = (r: WindowResult) => ((r.peakRss - r.idleRss) / r.sessions / 1024).toFixed(0);

runMain(async () => {
  printHeader("sessions: concurrent heartbeating instances", flags, quick);
  if (flags.probes < 1 || flags.probes >= flags.instances) throw new Error(`--probes must be at least 1 and less than --instances (${flags.instances})`);
  const results: WindowResult[] = [];
  if (flags.orchestrator) results.push(await orchestratorRun());
  if (flags.echo) results.push(await echoRun());
  if (!results.length) throw new Error("nothing to measure: --orchestrator 0 and --echo 0");

  console.log(`\nmeasured window ${flags.seconds} s; CPU in % of one core (${flags.heartbeatIntervalMs} ms heartbeats, round trip measured by the client via heartbeat_ack):\n`);
  printTable(
    ["<server", "sessions", "channels", "ramp s", "hb/s", "rtt p50", "p90", "p99", "max", "load rtt p99/max", "no ack", "server CPU", "RSS max", "RSS peak", "server lag p99/max", "db CPU", "client CPU", "client lag p99/max", "probe lag max", "lost"],
    results.map((r) => [
      r.server,
      int(r.sessions),
      int(r.channels),
      (r.rampMs / 1000).toFixed(1),
      int(r.heartbeatsPerSecond),
      ms(r.rtt.p50),
      ms(r.rtt.p90),
      ms(r.rtt.p99),
      ms(r.rtt.max),
      `${ms(r.loadRtt.p99)}/${ms(r.loadRtt.max)}`,
      int(r.unanswered),
      `${r.serverCpu.toFixed(1)} %`,
      mib(r.maxRss),
      mib(r.peakRss),
      Number.isNaN(r.serverLoopP99) ? "-" : `${ms(r.serverLoopP99)}/${ms(r.serverLoopMax)} ms`,
      Number.isNaN(r.dbCpu) ? "-" : `${r.dbCpu.toFixed(1)} %`,
      `${r.clientCpu.toFixed(0)} %`,
      `${ms(r.clientLoopP99)}/${ms(r.clientLoopMax)} ms`,
      `${ms(r.probe.loopMax)} ms`,
      int(r.lost),
    ]),
  );
  const o = results.find((r) => r.server === "orchestrator");
  const e = results.find((r) => r.server === "bare echo");
  if (o && e) {
    console.log(
      `\norchestrator vs bare echo: CPU ${(o.serverCpu / e.serverCpu).toFixed(1)}x, RSS ${(o.peakRss / e.peakRss).toFixed(1)}x, ` +
        `rtt p99 ${ms(o.rtt.p99)} vs ${ms(e.rtt.p99)} ms; per session (peak minus idle): ${perSession(o)} vs ${perSession(e)} KiB`,
    );
  }
  if (o) {
    console.log(
      `orchestrator at the end of the window: V8 heap used ${mib(o.heapUsed)}, external (buffers) ${mib(o.external)}, resident ${mib(o.maxRss)}; ` +
        `in the window ${o.majorGcs} major collections, ${ms(o.gcSeconds * 1000)} ms of collection pauses`,
    );
  }
  console.log("RSS max: largest VmRSS sampled in the window; RSS peak: VmHWM at the end (includes the ramp); server lag: the orchestrator's event-loop delay (its /metrics);\n" +
      `rtt: measured by the probe process (${flags.probes} instances); load rtt: the same measured by the harness process driving the other ${int(flags.instances - flags.probes)}; client lag: the harness's event-loop delay; probe lag: the probe's`);
  const targets: TargetResult[] = [];
  if (o) {
    targets.push(
      {
        name: `sessions ${int(o.sessions)}: heartbeat round trip p99`,
        target: `< ${flags.p99TargetMs} ms, no session lost`,
        value: `${ms(o.rtt.p99)} ms (p50 ${ms(o.rtt.p50)})${o.lost ? `, ${o.lost} sessions lost` : ""}`,
        met: o.rtt.p99 < flags.p99TargetMs && o.lost === 0,
      },
      {
        name: `sessions ${int(o.sessions)}: orchestrator resident memory (peak)`,
        target: `< ${flags.rssTargetMib} MiB`,
        value: mib(o.peakRss),
        met: o.peakRss < flags.rssTargetMib * 2 ** 20,
      },
    );
  }
  const notes: Record<string, string> = {};
  if (o) notes["sessions: orchestrator CPU"] = `${o.serverCpu.toFixed(1)} % of one core at ${int(o.heartbeatsPerSecond)} heartbeats/s`;
  if (e) notes["sessions: bare echo reference"] = `rtt p99 ${ms(e.rtt.p99)} ms (load rtt p99 ${ms(e.loadRtt.p99)}), CPU ${e.serverCpu.toFixed(1)} %, RSS peak ${mib(e.peakRss)}`;
  finish({ bench: "sessions", quick, targets, notes });
});
