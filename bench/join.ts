/**
 * Join benchmark: `node --import tsx bench/join.ts [--quick]`.
 *
 * One instance joins a balanced fleet (1,000 instances, 20,000 streams) on an
 * orchestrator child process: the time until it holds its fair share (every
 * grant acknowledged), and how many streams moved in total, which should equal
 * its share (a join takes streams only from others, only as many as it needs).
 * Each stream moves revoke -> acknowledge -> grant, so a join costs at least two
 * rounds; the reference is one placement measured in the same fleet: a new stream
 * created through UpsertStreams until its owner acknowledged it.
 */
import { DATABASE_FLAGS, parseArgs, TIMING_FLAGS } from "./lib/args.js";
import type { LoadInstance } from "./lib/load-instance.js";
import { startBenchPostgres } from "./lib/postgres.js";
import { metricValue, runMain } from "./lib/process.js";
import { finish, int, ms, printHeader, printTable, summarize, type TargetResult } from "./lib/report.js";
import { pollUntil, sleep } from "../test/helpers/wait.js";
import { autoCapacity, balancedFleet, orchestratorOnFreshDatabase } from "./lib/scenario.js";

const { quick, flags } = parseArgs("join", "Time for a new instance to hold its fair share of a balanced fleet, and streams moved.", {
  instances: { help: "instances in the fleet before the join", full: 1_000, quick: 100 },
  streams: { help: "streams in the catalog", full: 20_000, quick: 2_000 },
  capacity: { help: "capacity of every instance, joiners too (0: twice the fair share)", full: 0 },
  joins: { help: "instances joining one after the other", full: 3, quick: 2 },
  references: { help: "single-stream placements timed as the reference", full: 5, quick: 3 },
  ...TIMING_FLAGS,
  ...DATABASE_FLAGS,
  liveMovesPerSecond: { help: "LIVE_MOVES_PER_SECOND (the default)", full: 50 },
  liveMovesBurst: { help: "LIVE_MOVES_BURST (the default)", full: 200 },
  perChannel: { help: "sessions per channel for the fleet (joiners have their own)", full: 1 },
  refillMs: { help: "pause after the references and after each join, so the live-move budget refills and every join starts alike", full: 1_000, quick: 200 },
  batch: { help: "hellos in flight during the ramp", full: 250 },
});

interface JoinOutcome {
  welcomeMs: number;
  firstAddMs: number;
  share: number;
  atShareMs: number;
  held: number;
  revokedFromOthers: number;
  grantedToJoiner: number;
  grantedToOthers: number;
  rounds: number;
  /** Revocations the orchestrator itself counted (finger_stream_moves_total, action="revoking"). */
  serverRevocations: number;
}

runMain(async () => {
  const capacity = autoCapacity(flags.streams, flags.instances, flags.capacity);
  printHeader("join: one instance joins a balanced fleet", { ...flags, capacity }, quick);
  const pg = await startBenchPostgres(flags.databaseUrl);
  const orchestrator = await orchestratorOnFreshDatabase(pg, "join", {
    HEARTBEAT_INTERVAL_MS: flags.heartbeatIntervalMs,
    LEASE_TTL_MS: flags.leaseTtlMs,
    RECONNECT_GRACE_MS: flags.reconnectGraceMs,
    LIVE_MOVES_PER_SECOND: flags.liveMovesPerSecond,
    LIVE_MOVES_BURST: flags.liveMovesBurst,
  });
  console.log(`orchestrator pid ${orchestrator.pid} on ${orchestrator.grpcAddress}`);
  const { fleet, admin } = await balancedFleet({
    address: orchestrator.grpcAddress,
    instances: flags.instances,
    capacity,
    streams: flags.streams,
    perChannel: flags.perChannel,
    batch: flags.batch,
    heartbeatMs: flags.heartbeatIntervalMs,
  });

  // Reference: one new stream, from UpsertStreams until its new owner acknowledged it; then deleted again.
  const references: number[] = [];
  for (let r = 0; r < flags.references; r++) {
    const id = `ref-${r}`;
    let ackedAt = Number.NaN;
    fleet.on({
      assignment: (_i, c) => {
        if (c.added.includes(id)) ackedAt = c.at;
      },
    });
    const t0 = performance.now();
    await admin.upsertStreams([id]);
    if (!(await pollUntil(() => !Number.isNaN(ackedAt), 10_000, 1))) throw new Error(`reference stream ${id} not placed within 10 s`);
    references.push(ackedAt - t0);
    await admin.deleteStreams([id]);
    await pollUntil(() => !fleet.owners().owner.has(id), 10_000, 5);
    await fleet.quiet(200, 5_000);
  }
  const reference = summarize(references);
  console.log(`reference: one new stream placed and acknowledged in ${ms(reference.p50)} ms (median of ${references.length}; min ${ms(reference.min)}, max ${ms(reference.max)})`);
  // Tokens used by the references' moves (none expected) refill before the first join.
  await sleep(flags.refillMs);

  const outcomes: JoinOutcome[] = [];
  let fleetSize = flags.instances;
  for (let j = 0; j < flags.joins; j++) {
    const joiner: LoadInstance = fleet.add(`joiner-${j}`, capacity, true);
    const timeline: Array<[number, number]> = [];
    let firstAdd = Number.NaN;
    let revokedFromOthers = 0;
    let grantedToOthers = 0;
    let grantedToJoiner = 0;
    fleet.on({
      assignment: (inst, c) => {
        if (inst === joiner) {
          if (c.added.length && Number.isNaN(firstAdd)) firstAdd = c.at;
          grantedToJoiner += c.added.length;
          timeline.push([c.at, inst.owned.size]);
        } else {
          revokedFromOthers += c.removed.length;
          grantedToOthers += c.added.length;
        }
      },
    });
    const before = await orchestrator.metrics();
    const expectedAtLeast = Math.floor(flags.streams / (fleetSize + 1));
    const t0 = performance.now();
    await joiner.connect();
    joiner.heartbeatEvery(flags.heartbeatIntervalMs);
    const welcomeMs = joiner.welcomedAt - t0;
    if (!(await pollUntil(() => joiner.owned.size >= expectedAtLeast, 60_000, 2))) {
      throw new Error(`joiner-${j} holds ${joiner.owned.size} streams after 60 s, expected at least ${expectedAtLeast}`);
    }
    await fleet.quiet(500, 10_000);
    const after = await orchestrator.metrics();
    const share = (await admin.instance(joiner.id))?.fairShare ?? expectedAtLeast;
    const reached = timeline.find(([, held]) => held >= share);
    fleetSize++;
    outcomes.push({
      welcomeMs,
      firstAddMs: firstAdd - t0,
      share,
      atShareMs: reached ? reached[0] - t0 : Number.NaN,
      held: joiner.owned.size,
      revokedFromOthers,
      grantedToJoiner,
      grantedToOthers,
      rounds: metricValue(after, "finger_scheduling_round_duration_seconds_count") - metricValue(before, "finger_scheduling_round_duration_seconds_count"),
      serverRevocations: metricValue(after, "finger_stream_moves_total", 'action="revoking"') - metricValue(before, "finger_stream_moves_total", 'action="revoking"'),
    });
    // Let the rate limiter's bucket refill so every join starts alike.
    await sleep(flags.refillMs);
  }
  const { duplicates } = fleet.owners();
  fleet.close();
  admin.close();
  await orchestrator.stop();
  await pg.stop();

  console.log("\nms from the joiner opening its call; moved = streams revoked from other instances:\n");
  printTable(
    ["join", "welcome", "first stream", "fair share", "at fair share", "x reference", "moved", "revoked (server)", "to joiner", "to others", "rounds"],
    outcomes.map((o, j) => [
      `${j + 1}`,
      ms(o.welcomeMs),
      ms(o.firstAddMs),
      int(o.share),
      ms(o.atShareMs),
      `${(o.atShareMs / reference.p50).toFixed(1)}x`,
      int(o.revokedFromOthers),
      int(o.serverRevocations),
      int(o.grantedToJoiner),
      int(o.grantedToOthers),
      int(o.rounds),
    ]),
  );
  console.log(`\nreference (one placement, median): ${ms(reference.p50)} ms; live moves limited to ${flags.liveMovesPerSecond}/s, burst ${flags.liveMovesBurst}`);
  if (duplicates.length) console.log(`ERROR: ${duplicates.length} streams held by two instances at the end`);
  const churn = outcomes.filter((o) => o.grantedToOthers > 0);
  if (churn.length) {
    console.log(
      `${churn.length} of ${outcomes.length} joins also moved streams between instances that were already there ` +
        `(${churn.map((o) => o.grantedToOthers).join(", ")} streams; those joins took ${churn.map((o) => o.rounds).join(", ")} rounds)`,
    );
  }

  const minimal = outcomes.every((o) => o.revokedFromOthers === o.share && o.grantedToJoiner === o.share && o.grantedToOthers === 0 && o.held === o.share);
  const atShare = summarize(outcomes.map((o) => o.atShareMs));
  const targets: TargetResult[] = [
    {
      name: "join: streams moved = joiner's fair share",
      target: "moved = share, nothing else moves",
      value: outcomes.map((o) => `${o.revokedFromOthers}/${o.share}`).join(", ") + (duplicates.length ? `, ${duplicates.length} duplicates` : ""),
      met: minimal && duplicates.length === 0,
    },
  ];
  finish({
    bench: "join",
    quick,
    targets,
    notes: { "join: time to fair share (median)": `${ms(atShare.p50)} ms (${(atShare.p50 / reference.p50).toFixed(1)}x one placement of ${ms(reference.p50)} ms)` },
  });
});
