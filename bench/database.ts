/**
 * Database work benchmark: `node --import tsx bench/database.ts [--quick]`.
 *
 * Counts what the orchestrator asks of PostgreSQL, from PostgreSQL itself
 * (pg_stat_statements, preloaded in the embedded cluster the benchmark starts;
 * a server given with --database-url must preload it too):
 * the orchestrator connects as a role of its own, and only that role's calls are
 * summed, so the benchmark's counting queries never count.
 *
 *  1. Heartbeats: instances heartbeating every second for N seconds; statements
 *     per heartbeat. The periodic, batched last-seen flush (one statement per
 *     flush interval for the whole fleet) is expected and reported apart; apart
 *     from it the target is 0.
 *  2. Membership changes: one instance joining, and one dying (broken connection),
 *     in a fleet with 1,000 and with 10,000 streams; statements and transactions
 *     per change, which must not grow with the number of streams.
 */
import { DATABASE_FLAGS, parseArgs } from "./lib/args.js";
import type { LoadInstance } from "./lib/load-instance.js";
import { startBenchPostgres, type BenchPostgres } from "./lib/postgres.js";
import { metricValue, runMain, type OrchestratorChild } from "./lib/process.js";
import { finish, int, printHeader, printTable, type TargetResult } from "./lib/report.js";
import { pollUntil, sleep } from "../test/helpers/wait.js";
import { autoCapacity, balancedFleet, orchestratorOnFreshDatabase } from "./lib/scenario.js";

const { quick, flags } = parseArgs("database", "Statements per heartbeat and database round trips per membership change, from pg_stat_statements.", {
  heartbeatInstances: { help: "instances in the heartbeat part", full: 100, quick: 20 },
  heartbeatSeconds: { help: "seconds of heartbeats counted", full: 10, quick: 3 },
  heartbeatStreams: { help: "streams in the heartbeat part", full: 1_000, quick: 200 },
  fleet: { help: "instances in the membership part", full: 100, quick: 20 },
  sizes: { help: "comma-separated stream counts for the membership part", full: "1000,10000", quick: "200,2000" },
  heartbeatIntervalMs: { help: "HEARTBEAT_INTERVAL_MS (also the last-seen flush interval)", full: 1_000 },
  leaseTtlMs: { help: "LEASE_TTL_MS", full: 3_000 },
  reconnectGraceMs: { help: "RECONNECT_GRACE_MS", full: 1_000 },
  perChannel: { help: "sessions per channel (the dying instance always has its own)", full: 1 },
  settleMs: { help: "no assignment for this long before a count starts, so the setup's work is not counted", full: 1_000, quick: 300 },
  ...DATABASE_FLAGS,
});

/** Backends flush their statistics when idle; pg_stat_statements is updated at once, this is slack for the last commit. */
const STATS_SETTLE_MS = 300;

const FLUSH_PATTERN = /update\s+instances\s+i\s+set\s+last_seen_at/i;

interface Counted {
  statements: number;
  flushes: number;
  begins: number;
  byQuery: Array<{ query: string; calls: number }>;
}

/** Forgets what the orchestrator's role ran in its database (only that: on a shared server others keep theirs). */
async function resetStatements(pg: BenchPostgres, database: string): Promise<void> {
  await pg.query("select pg_stat_statements_reset((select oid from pg_roles where rolname = $1), (select oid from pg_database where datname = $2), 0)", [
    pg.role,
    database,
  ]);
}

/** Calls the orchestrator's role made in its database since the last reset. */
async function countStatements(pg: BenchPostgres, database: string): Promise<Counted> {
  await sleep(STATS_SETTLE_MS);
  const { rows } = await pg.query<{ query: string; calls: string }>(
    `select s.query, s.calls::text as calls
       from pg_stat_statements s
       join pg_roles r on r.oid = s.userid
       join pg_database d on d.oid = s.dbid
      where r.rolname = $1 and d.datname = $2
      order by s.calls desc`,
    [pg.role, database],
  );
  const byQuery = rows.map((r) => ({ query: r.query.replace(/\s+/g, " ").trim(), calls: Number(r.calls) }));
  const sum = (f: (q: string) => boolean) => byQuery.filter((r) => f(r.query)).reduce((n, r) => n + r.calls, 0);
  return {
    statements: sum(() => true),
    flushes: sum((q) => FLUSH_PATTERN.test(q)),
    begins: sum((q) => /^begin\b/i.test(q)),
    byQuery,
  };
}

function printQueries(counted: Counted, limit = 12): void {
  printTable(
    ["calls", "<statement (normalized by pg_stat_statements)"],
    counted.byQuery.slice(0, limit).map((r) => [int(r.calls), r.query.length > 110 ? `${r.query.slice(0, 107)}...` : r.query]),
  );
}

async function withOrchestrator<T>(pg: BenchPostgres, label: string, fn: (o: OrchestratorChild & { database: string }) => Promise<T>): Promise<T> {
  const o = await orchestratorOnFreshDatabase(pg, label, {
    HEARTBEAT_INTERVAL_MS: flags.heartbeatIntervalMs,
    LEASE_TTL_MS: flags.leaseTtlMs,
    RECONNECT_GRACE_MS: flags.reconnectGraceMs,
  });
  try {
    return await fn(o);
  } finally {
    await o.stop();
  }
}

// ---- 1. heartbeats

interface HeartbeatOutcome {
  heartbeats: number;
  counted: Counted;
  expectedFlushes: number;
}

async function heartbeatPart(pg: BenchPostgres): Promise<HeartbeatOutcome> {
  return withOrchestrator(pg, "heartbeats", async (o) => {
    const { fleet, members, admin } = await balancedFleet({
      address: o.grpcAddress,
      instances: flags.heartbeatInstances,
      capacity: autoCapacity(flags.heartbeatStreams, flags.heartbeatInstances, 0),
      streams: flags.heartbeatStreams,
      perChannel: flags.perChannel,
      batch: 250,
      heartbeatMs: flags.heartbeatIntervalMs,
      log: (line) => console.log(`[heartbeats] ${line}`),
    });
    try {
      await fleet.quiet(flags.settleMs, 10_000);
      await resetStatements(pg, o.database);
      const sent = () => members.reduce((n, m) => n + m.heartbeatsSent, 0);
      const before = sent();
      await sleep(flags.heartbeatSeconds * 1000);
      const heartbeats = sent() - before;
      const counted = await countStatements(pg, o.database);
      return { heartbeats, counted, expectedFlushes: (flags.heartbeatSeconds * 1000) / Math.max(1_000, flags.heartbeatIntervalMs) };
    } finally {
      fleet.close();
      admin.close();
    }
  });
}

// ---- 2. membership changes

interface ChangeOutcome {
  streams: number;
  change: "join" | "death";
  moved: number;
  counted: Counted;
  rounds: number;
  ms: number;
}

async function membershipPart(pg: BenchPostgres, streams: number): Promise<ChangeOutcome[]> {
  return withOrchestrator(pg, `membership_${streams}`, async (o) => {
    const capacity = autoCapacity(streams, flags.fleet, 0);
    const { fleet, members, admin } = await balancedFleet({
      address: o.grpcAddress,
      instances: flags.fleet,
      capacity,
      streams,
      perChannel: flags.perChannel,
      batch: 250,
      heartbeatMs: flags.heartbeatIntervalMs,
      dedicated: (i) => i === 0,
      log: (line) => console.log(`[${streams} streams] ${line}`),
    });
    const rounds = async () => metricValue(await o.metrics(), "finger_scheduling_round_duration_seconds_count");
    const outcomes: ChangeOutcome[] = [];
    try {
      // Join: one new instance, until it holds its share and nothing moves any more.
      await fleet.quiet(flags.settleMs, 10_000);
      const joiner: LoadInstance = fleet.add("joiner", capacity, true);
      let moved = 0;
      fleet.on({
        assignment: (inst, c) => {
          if (inst === joiner) moved += c.added.length;
        },
      });
      const roundsBefore = await rounds();
      await resetStatements(pg, o.database);
      let t0 = performance.now();
      await joiner.connect();
      joiner.heartbeatEvery(flags.heartbeatIntervalMs);
      const share = Math.floor(streams / (flags.fleet + 1));
      if (!(await pollUntil(() => joiner.owned.size >= share, 30_000, 2))) throw new Error(`joiner holds ${joiner.owned.size} of ${share} after 30 s`);
      let elapsed = performance.now() - t0;
      await fleet.quiet(500, 10_000);
      outcomes.push({ streams, change: "join", moved, counted: await countStatements(pg, o.database), rounds: (await rounds()) - roundsBefore, ms: elapsed });

      // Death: the first instance's connection breaks; after the grace its streams move.
      await fleet.quiet(flags.settleMs, 10_000);
      const victim = members[0]!;
      const orphans = new Set(victim.owned.keys());
      let placed = 0;
      fleet.on({
        assignment: (inst, c) => {
          if (inst !== victim) placed += c.added.filter((id) => orphans.has(id)).length;
        },
      });
      const roundsBefore2 = await rounds();
      await resetStatements(pg, o.database);
      t0 = performance.now();
      victim.kill();
      if (!(await pollUntil(() => placed >= orphans.size, flags.reconnectGraceMs + 30_000, 2))) throw new Error(`${placed} of ${orphans.size} orphans placed`);
      elapsed = performance.now() - t0;
      await fleet.quiet(500, 10_000);
      outcomes.push({ streams, change: "death", moved: orphans.size, counted: await countStatements(pg, o.database), rounds: (await rounds()) - roundsBefore2, ms: elapsed });
      return outcomes;
    } finally {
      fleet.close();
      admin.close();
    }
  });
}

runMain(async () => {
  const sizes = flags.sizes.split(",").map((s) => Number(s.trim())).filter((n) => n > 0);
  printHeader("database: statements per heartbeat and per membership change (pg_stat_statements)", flags, quick);
  const pg = await startBenchPostgres(flags.databaseUrl, { statements: true });

  const hb = await heartbeatPart(pg);
  const changes: ChangeOutcome[] = [];
  for (const size of sizes) changes.push(...(await membershipPart(pg, size)));
  await pg.stop();

  const outsideFlush = hb.counted.statements - hb.counted.flushes;
  console.log(`\n1. heartbeats: ${flags.heartbeatInstances} instances, one heartbeat per ${flags.heartbeatIntervalMs} ms each, ${flags.heartbeatSeconds} s\n`);
  printTable(
    ["heartbeats", "statements", "last-seen flushes", "expected flushes", "other", "per heartbeat", "other per heartbeat"],
    [[int(hb.heartbeats), int(hb.counted.statements), int(hb.counted.flushes), `~${int(hb.expectedFlushes)}`, int(outsideFlush), (hb.counted.statements / hb.heartbeats).toFixed(4), (outsideFlush / hb.heartbeats).toFixed(4)]],
  );
  if (hb.counted.byQuery.length) {
    console.log("");
    printQueries(hb.counted);
  }

  console.log(`\n2. membership changes in a fleet of ${flags.fleet} instances (statements = database round trips, BEGIN..COMMIT included; the periodic last-seen flush counted apart):\n`);
  printTable(
    ["streams", "<change", "streams moved", "ms", "rounds", "statements", "of which flush", "change statements", "transactions (BEGIN)", "per round"],
    changes.map((c) => {
      const own = c.counted.statements - c.counted.flushes;
      return [int(c.streams), c.change, int(c.moved), int(c.ms), int(c.rounds), int(c.counted.statements), int(c.counted.flushes), int(own), int(c.counted.begins), c.rounds ? (own / c.rounds).toFixed(1) : "-"];
    }),
  );
  const largest = changes.filter((c) => c.streams === Math.max(...sizes));
  for (const c of largest) {
    console.log(`\nstatements of the ${c.change} with ${int(c.streams)} streams:`);
    printQueries(c.counted, 15);
  }

  const targets: TargetResult[] = [
    {
      name: "database: statements per heartbeat outside the batched last-seen flush",
      target: "0",
      value: `${(outsideFlush / hb.heartbeats).toFixed(4)} (${int(outsideFlush)} statements / ${int(hb.heartbeats)} heartbeats; with the flush ${(hb.counted.statements / hb.heartbeats).toFixed(4)})`,
      met: outsideFlush === 0,
    },
  ];
  if (sizes.length >= 2) {
    const small = Math.min(...sizes);
    const big = Math.max(...sizes);
    for (const change of ["join", "death"] as const) {
      const a = changes.find((c) => c.streams === small && c.change === change)!;
      const b = changes.find((c) => c.streams === big && c.change === change)!;
      const sa = a.counted.statements - a.counted.flushes;
      const sb = b.counted.statements - b.counted.flushes;
      // Constant means: ten times the streams may cost one more round at most (acks arriving in another batch), never one per stream.
      const perRound = b.rounds ? sb / b.rounds : sb;
      const met = sb <= Math.max(sa * 1.5, sa + perRound) && sb < b.moved;
      targets.push({
        name: `database: round trips per ${change}, ${int(small)} vs ${int(big)} streams`,
        target: "constant (not growing with streams, below one per moved stream)",
        value: `${int(sa)} vs ${int(sb)} statements, ${int(a.counted.begins)} vs ${int(b.counted.begins)} transactions (${int(a.moved)} vs ${int(b.moved)} streams moved)`,
        met,
      });
    }
  }
  finish({ bench: "database", quick, targets });
});
