/**
 * Failover benchmark: `node --import tsx bench/failover.ts [--quick]`.
 *
 * A balanced fleet (1,000 instances, 20,000 streams) on an orchestrator child
 * process; then 10 % of the instances die at once, either with broken
 * connections (call cancelled, channel closed) or silently (they stop sending
 * anything but keep the connection). Measured per orphaned stream: the time from
 * the fault until a surviving instance has acknowledged it. The reference is the
 * configured reconnect grace (broken) or lease (silent): the orchestrator may not
 * move a stream before it, and the target allows 500 ms on top.
 */
import { parseArgs, TIMING_FLAGS } from "./lib/args.js";
import type { VirtualInstance } from "./lib/instances.js";
import { startBenchPostgres } from "./lib/postgres.js";
import { metricValue, runMain } from "./lib/process.js";
import { finish, int, ms, printHeader, printTable, summarize, waitUntil, type TargetResult } from "./lib/report.js";
import { autoCapacity, balancedFleet, orchestratorOnFreshDatabase } from "./lib/scenario.js";

const { quick, flags } = parseArgs(
  "failover",
  "Time until every stream of instances that died is acknowledged by a new owner.",
  {
    instances: { help: "instances in the fleet", full: 1_000, quick: 100 },
    streams: { help: "streams in the catalog", full: 20_000, quick: 2_000 },
    capacity: { help: "capacity of each instance (0: twice its fair share)", full: 0 },
    deadPercent: { help: "share of the instances that die, in %", full: 10 },
    scenarios: { help: "comma-separated: broken, silent", full: "broken,silent" },
    ...TIMING_FLAGS,
    slackMs: { help: "allowed time on top of the grace or lease", full: 500 },
    perChannel: { help: "sessions per channel for survivors (victims always have their own)", full: 1 },
    batch: { help: "hellos in flight during the ramp", full: 250 },
  },
);

interface Outcome {
  scenario: string;
  reference: number;
  orphans: number;
  victims: number;
  fromFault: ReturnType<typeof summarize>;
  fromLastMessage?: ReturnType<typeof summarize>;
  missing: number;
  extraMoves: number;
  duplicates: number;
  rounds: number;
  roundSeconds: number;
}

async function scenario(name: "broken" | "silent", pg: Awaited<ReturnType<typeof startBenchPostgres>>): Promise<Outcome> {
  const capacity = autoCapacity(flags.streams, flags.instances, flags.capacity);
  const step = Math.max(1, Math.round(100 / flags.deadPercent));
  const victimCount = Math.round((flags.instances * flags.deadPercent) / 100);
  const isVictim = (i: number) => i % step === 0 && i / step < victimCount;
  const orchestrator = await orchestratorOnFreshDatabase(pg, `failover_${name}`, {
    HEARTBEAT_INTERVAL_MS: flags.heartbeatIntervalMs,
    LEASE_TTL_MS: flags.leaseTtlMs,
    RECONNECT_GRACE_MS: flags.reconnectGraceMs,
  });
  console.log(`[${name}] orchestrator pid ${orchestrator.pid} on ${orchestrator.grpcAddress}`);
  const { fleet, members, admin } = await balancedFleet({
    address: orchestrator.grpcAddress,
    instances: flags.instances,
    capacity,
    streams: flags.streams,
    perChannel: flags.perChannel,
    batch: flags.batch,
    heartbeatMs: flags.heartbeatIntervalMs,
    dedicated: isVictim,
    log: (line) => console.log(`[${name}] ${line}`),
  });
  try {
    const victims = members.filter((_, i) => isVictim(i));
    const victimSet = new Set<VirtualInstance>(victims);
    const orphanOf = new Map<string, VirtualInstance>();
    for (const v of victims) for (const id of v.owned.keys()) orphanOf.set(id, v);
    const ackedAt = new Map<string, number>();
    let extraMoves = 0;
    let t0 = Number.POSITIVE_INFINITY;
    fleet.on({
      assignment: (inst, change) => {
        if (change.at < t0 || victimSet.has(inst)) return;
        for (const id of change.added) {
          if (orphanOf.has(id)) {
            if (!ackedAt.has(id)) ackedAt.set(id, change.at);
          } else {
            extraMoves++;
          }
        }
      },
    });
    const before = await orchestrator.metrics();
    const lastMessage = new Map<VirtualInstance, number>();
    t0 = performance.now();
    for (const v of victims) {
      if (name === "broken") v.kill();
      else v.silence();
      lastMessage.set(v, v.lastSentAt);
    }
    const reference = name === "broken" ? flags.reconnectGraceMs : flags.leaseTtlMs;
    await waitUntil(() => ackedAt.size >= orphanOf.size, reference + 20_000, 5);
    const after = await orchestrator.metrics();
    const fromFault: number[] = [];
    const fromLast: number[] = [];
    for (const [id, at] of ackedAt) {
      fromFault.push(at - t0);
      fromLast.push(at - (lastMessage.get(orphanOf.get(id)!) ?? t0));
    }
    await fleet.quiet(300, 5_000);
    const { duplicates } = fleet.owners();
    const round = "finger_scheduling_round_duration_seconds";
    return {
      scenario: name,
      reference,
      orphans: orphanOf.size,
      victims: victims.length,
      fromFault: summarize(fromFault),
      fromLastMessage: name === "silent" ? summarize(fromLast) : undefined,
      missing: orphanOf.size - ackedAt.size,
      extraMoves,
      duplicates: duplicates.length,
      rounds: metricValue(after, `${round}_count`) - metricValue(before, `${round}_count`),
      roundSeconds: metricValue(after, `${round}_sum`) - metricValue(before, `${round}_sum`),
    };
  } finally {
    fleet.close();
    admin.close();
    await orchestrator.stop();
  }
}

runMain(async () => {
  const scenarios = flags.scenarios.split(",").map((s) => s.trim()).filter(Boolean);
  for (const s of scenarios) if (s !== "broken" && s !== "silent") throw new Error(`unknown scenario ${s}`);
  if (!(flags.deadPercent > 0 && flags.deadPercent <= 100)) throw new Error("--dead-percent must be above 0 and at most 100");
  printHeader("failover: orphaned streams acknowledged by a new owner", { ...flags, capacity: autoCapacity(flags.streams, flags.instances, flags.capacity) }, quick);
  const pg = await startBenchPostgres();
  const outcomes: Outcome[] = [];
  for (const s of scenarios) outcomes.push(await scenario(s as "broken" | "silent", pg));
  await pg.stop();

  console.log("\nper orphaned stream, ms from the fault until a survivor acknowledged it:\n");
  const targets: TargetResult[] = [];
  printTable(
    ["<scenario", "<timing", "victims", "orphans", "first", "p50", "p99", "max", "reference", "target", "rounds", "round time", "<verdict"],
    outcomes.map((o) => {
      const limit = o.reference + flags.slackMs;
      const met = o.missing === 0 && o.duplicates === 0 && o.fromFault.max <= limit;
      targets.push({
        name: `failover ${o.scenario}: max time to new owner`,
        target: `<= ${limit} ms (${o.scenario === "broken" ? "grace" : "lease"} + ${flags.slackMs})`,
        value: o.missing ? `${o.missing} orphans never moved` : `${ms(o.fromFault.max)} ms (p50 ${ms(o.fromFault.p50)}, p99 ${ms(o.fromFault.p99)})`,
        met,
      });
      const timing = o.scenario === "broken" ? `grace ${flags.reconnectGraceMs}` : `lease ${flags.leaseTtlMs}, hb ${flags.heartbeatIntervalMs}`;
      return [
        o.scenario,
        timing,
        int(o.victims),
        int(o.orphans),
        ms(o.fromFault.min),
        ms(o.fromFault.p50),
        ms(o.fromFault.p99),
        ms(o.fromFault.max),
        int(o.reference),
        `<= ${limit}`,
        int(o.rounds),
        `${ms(o.roundSeconds * 1000)} ms`,
        met ? "met" : "MISSED",
      ];
    }),
  );
  for (const o of outcomes) {
    if (o.fromLastMessage) {
      const l = o.fromLastMessage;
      console.log(
        `\n${o.scenario}: from each victim's last message instead of the fault: p50 ${ms(l.p50)}, p99 ${ms(l.p99)}, max ${ms(l.max)} ms ` +
          `(the lease runs from the last message; victims' last heartbeats were up to ${flags.heartbeatIntervalMs} ms before the fault)`,
      );
    }
    if (o.missing || o.extraMoves || o.duplicates) {
      console.log(`${o.scenario}: ${o.missing} orphans not moved, ${o.extraMoves} other streams moved, ${o.duplicates} streams held twice`);
    }
  }
  console.log("\nrounds: scheduling rounds that changed something during the failover; round time: their total duration (plan, write, push)");
  finish({ bench: "failover", quick, targets });
});
