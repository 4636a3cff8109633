/**
 * Transport ceiling: `node --import tsx bench/transport.ts [--quick]`.
 *
 * The same client harness (load instances on the generated stub, same
 * channel options) drives two servers with the same concurrency: every stream
 * keeps exactly one heartbeat (seq set) in flight and sends the next one as soon
 * as its heartbeat_ack arrives, for N seconds.
 *  - bare echo: a grpc-js server with the orchestrator's server options and the
 *    same Connect service, answering heartbeats and nothing else (bench/lib/echo-server.ts);
 *  - orchestrator: the real server (child process, embedded PostgreSQL), whose
 *    heartbeat_ack is the echo;
 *  - orchestrator, TLS + token: a second one, on a database of its own, with
 *    TLS_CERT_FILE/TLS_KEY_FILE (a CA and certificate made with openssl at start)
 *    and INSTANCE_TOKENS; the load instances trust the CA and send the token.
 * Reported: round trips per second for each, the orchestrator's fraction of the
 * bare echo (target >= 0.7), and what TLS and the token check leave of the
 * plaintext orchestrator's (target >= 0.9: they cost at most 10 %). The token
 * is checked once per Connect call, so the hello ramp (hellos/s) is shown too.
 * Client and servers share the machine's cores.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { muteIpServerNameWarning } from "../src/cli/orchestrator-target.js";
import type { ConnectionSecurity } from "../src/client/connection-security.js";
import { DATABASE_FLAGS, parseArgs } from "./lib/args.js";
import { Channels } from "./lib/load-instance.js";
import { LoadFleet } from "./lib/load-fleet.js";
import { startBenchPostgres } from "./lib/postgres.js";
import { ProcessWindow, SelfCpu } from "./lib/proc.js";
import { onCleanup, runMain, startEchoServer } from "./lib/process.js";
import { finish, int, ms, printHeader, printTable, summarize, type TargetResult } from "./lib/report.js";
import { TestCertificates } from "../test/helpers/test-certificates.js";
import { sleep } from "../test/helpers/wait.js";
import { orchestratorOnFreshDatabase } from "./lib/scenario.js";

const { quick, flags } = parseArgs("transport", "Round trips per second: the orchestrator against a bare grpc-js echo, same harness.", {
  streams: { help: "comma-separated concurrencies (streams, one message in flight each)", full: "100,1000", quick: "20,200" },
  seconds: { help: "measured seconds per run", full: 10, quick: 3 },
  warmupSeconds: { help: "seconds of traffic before each measurement", full: 2, quick: 1 },
  perChannel: { help: "streams per channel (1,000: all on one connection, how the orientation figures were taken; 1: a connection each)", full: 1_000 },
  batch: { help: "hellos in flight during the ramp", full: 250 },
  target: { help: "orchestrator / echo target", full: 0.7 },
  tlsTarget: { help: "orchestrator with TLS and a token / plaintext orchestrator target", full: 0.9 },
  settleMs: { help: "pause after each run, so its sessions are gone before the next is measured (half of it between the servers of one concurrency)", full: 1_000, quick: 300 },
  ...DATABASE_FLAGS,
});

const TLS_SERVER = "orchestrator, TLS + token";

interface Run {
  server: "bare echo" | "orchestrator" | typeof TLS_SERVER;
  streams: number;
  channels: number;
  /** Hellos answered with a welcome per second during the ramp. */
  hellosPerSecond: number;
  perSecond: number;
  rtt: ReturnType<typeof summarize>;
  serverCpu: number;
  clientCpu: number;
}

async function drive(server: Run["server"], address: string, pid: number, streams: number, label: string, security: ConnectionSecurity = {}): Promise<Run> {
  const fleet = new LoadFleet(new Channels(address, flags.perChannel, security));
  const members = Array.from({ length: streams }, (_, i) => fleet.add(`${label}-${i}`, 10));
  const ramp = await fleet.connectAll(members, flags.batch);
  const channels = fleet.channels.all.length;
  let counting = false;
  let running = true;
  const rtts: number[] = [];
  fleet.on({
    heartbeatAck: (inst, rtt) => {
      if (counting) rtts.push(rtt);
      if (running) inst.heartbeat();
    },
  });
  for (const m of members) m.heartbeat();
  await sleep(flags.warmupSeconds * 1000);
  const proc = new ProcessWindow(pid, 1_000);
  proc.start();
  const self = new SelfCpu();
  const started = performance.now();
  counting = true;
  await sleep(flags.seconds * 1000);
  counting = false;
  const elapsed = (performance.now() - started) / 1000;
  proc.stop();
  const clientCpu = self.percent();
  running = false;
  // The last round trips come back before the sessions leave.
  await fleet.answered(performance.now(), 200);
  await fleet.leaveAll();
  const lost = fleet.sessionsLost;
  if (lost) console.log(`[${server} ${streams}] ${lost} sessions ended by the server, e.g. ${members.find((m) => m.endReason)?.endReason}`);
  const run: Run = {
    server,
    streams,
    channels,
    hellosPerSecond: ramp.perSecond,
    perSecond: rtts.length / elapsed,
    rtt: summarize(rtts),
    serverCpu: proc.cpuPercent,
    clientCpu,
  };
  console.log(`[${server} ${streams}] ${int(run.perSecond)} round trips/s, rtt p50 ${ms(run.rtt.p50)} ms, server CPU ${run.serverCpu.toFixed(0)} %, client CPU ${run.clientCpu.toFixed(0)} %`);
  return run;
}

// The load instances dial 127.0.0.1 over TLS; Node's warning about that says nothing about the run.
muteIpServerNameWarning();
runMain(async () => {
  const levels = flags.streams.split(",").map((s) => Number(s.trim())).filter((n) => n > 0);
  printHeader("transport: round trips per second, orchestrator (plaintext, and TLS + token) vs bare grpc-js echo", flags, quick);
  const certificates = new TestCertificates("bench transport CA");
  onCleanup(() => certificates.remove());
  const server = certificates.server();
  const token = randomBytes(24).toString("base64url");
  const secured: ConnectionSecurity = { token, tls: { ca: readFileSync(certificates.caFile) } };
  const timings = { HEARTBEAT_INTERVAL_MS: 1_000, LEASE_TTL_MS: 3_000, RECONNECT_GRACE_MS: 1_000 };
  // The servers start side by side; nothing is measured before all are up.
  const [echo, { pg, orchestrator, tls }] = await Promise.all([
    startEchoServer(),
    startBenchPostgres(flags.databaseUrl).then(async (pg) => {
      const [orchestrator, tls] = await Promise.all([
        orchestratorOnFreshDatabase(pg, "transport", timings),
        orchestratorOnFreshDatabase(pg, "transport_tls", { ...timings, TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: server.keyFile, INSTANCE_TOKENS: token }),
      ]);
      return { pg, orchestrator, tls };
    }),
  ]);
  console.log(`echo pid ${echo.pid} on ${echo.address}; orchestrator pid ${orchestrator.pid} on ${orchestrator.grpcAddress}; with TLS + token pid ${tls.pid} on ${tls.grpcAddress}\n`);
  const runs: Array<{ echo: Run; orchestrator: Run; tls: Run }> = [];
  for (const n of levels) {
    const e = await drive("bare echo", echo.address, echo.pid, n, `echo${n}`);
    await sleep(flags.settleMs / 2);
    const o = await drive("orchestrator", orchestrator.grpcAddress, orchestrator.pid, n, `t${n}`);
    await sleep(flags.settleMs / 2);
    const t = await drive(TLS_SERVER, tls.grpcAddress, tls.pid, n, `s${n}`, secured);
    await sleep(flags.settleMs);
    runs.push({ echo: e, orchestrator: o, tls: t });
  }
  await Promise.all([orchestrator.stop(), tls.stop(), echo.stop()]);
  await pg.stop();

  console.log(`\nclosed loop, one heartbeat in flight per stream, ${flags.seconds} s each; CPU in % of one core; server CPU per round trip in µs:\n`);
  printTable(
    ["streams", "<server", "channels", "hellos/s", "round trips/s", "rtt p50", "rtt p99", "server CPU", "µs/rt", "client CPU", "fraction"],
    runs.flatMap(({ echo: e, orchestrator: o, tls: t }) =>
      [e, o, t].map((r) => [
        int(r.streams),
        r.server,
        int(r.channels),
        int(r.hellosPerSecond),
        int(r.perSecond),
        ms(r.rtt.p50),
        ms(r.rtt.p99),
        `${r.serverCpu.toFixed(0)} %`,
        ((r.serverCpu / 100) * 1e6 / r.perSecond).toFixed(1),
        `${r.clientCpu.toFixed(0)} %`,
        (r.perSecond / e.perSecond).toFixed(2),
      ]),
    ),
  );
  console.log("(fraction: of the bare echo's round trips per second at the same concurrency)");
  const targets: TargetResult[] = runs.flatMap(({ echo: e, orchestrator: o, tls: t }) => [
    {
      name: `transport ${int(o.streams)} streams: orchestrator / bare echo`,
      target: `>= ${flags.target}`,
      value: `${(o.perSecond / e.perSecond).toFixed(2)} (${int(o.perSecond)} vs ${int(e.perSecond)} round trips/s)`,
      met: o.perSecond / e.perSecond >= flags.target,
    },
    {
      name: `transport ${int(t.streams)} streams: TLS and tokens cost at most 10 % of throughput (TLS + token / plaintext orchestrator)`,
      target: `>= ${flags.tlsTarget}`,
      value: `${(t.perSecond / o.perSecond).toFixed(2)} (${int(t.perSecond)} vs ${int(o.perSecond)} round trips/s)`,
      met: t.perSecond / o.perSecond >= flags.tlsTarget,
    },
  ]);
  finish({ bench: "transport", quick, targets });
});
