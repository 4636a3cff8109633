import pg from "pg";
import type { Elected, LeaderLockPort, LockHolder } from "../leadership/leadership.js";
import type { LeaseTimings } from "../leadership/lease-timings.js";

/** The key of the session lock that says "this connection's process leads the schema". */
function lockKey(schema: string): string {
  return `finger-orchestrator:${schema}`;
}

export interface LeaderLockOptions {
  url: string;
  schema: string;
  /** Written into the leadership row for standbys and instances to find the leader by. */
  advertiseAddress: string;
  /** Who this process is (host and pid), for the row and for error messages. */
  holder: string;
  /**
   * The server ends the lock's session once it has been idle this long
   * (PostgreSQL's idle_session_timeout): a leader that is paused or cut off
   * stops confirming, and its lock is released by the database's own clock.
   * 0: never (a single orchestrator keeps its lock through a long pause).
   */
  idleSessionTimeoutMs: number;
}

/**
 * Leadership through PostgreSQL: a session-level advisory lock held on a
 * connection of its own (apart from the pool, so nothing else can release
 * it), and the term row that each election raises. Why a lock and not a
 * lease row: the database ends the lock the moment the holder's session ends
 * (a killed process's socket closes at once), so a takeover needs no lease to
 * run out first, and a paused holder loses it by idle_session_timeout, a
 * timer on the database's clock rather than on the holder's.
 */
export class LeaderLock implements LeaderLockPort {
  private client: pg.Client | undefined;
  private lost = true;

  constructor(private readonly options: LeaderLockOptions) {}

  private async session(): Promise<pg.Client> {
    if (this.client && !this.lost) return this.client;
    await this.client?.end().catch(() => undefined);
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: "finger-orchestrator (leader lock)",
      keepAlive: true,
      keepAliveInitialDelayMillis: 1_000,
      connectionTimeoutMillis: 5_000,
      query_timeout: 5_000,
      options: `-c search_path=${this.options.schema}`,
    });
    client.on("error", () => {
      this.lost = true;
    });
    client.on("end", () => {
      this.lost = true;
    });
    this.client = client;
    await client.connect();
    this.lost = false;
    if (this.options.idleSessionTimeoutMs > 0) {
      await client.query(`set idle_session_timeout = ${Math.ceil(this.options.idleSessionTimeoutMs)}`);
    }
    return client;
  }

  /** Takes the lock if it is free and, in the same session, raises the term and records the durations in force. */
  async tryLead(record: (found: LeaseTimings | undefined) => LeaseTimings): Promise<Elected | undefined> {
    const client = await this.session();
    const key = lockKey(this.options.schema);
    const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock(hashtext($1)) as locked", [key]);
    if (!rows[0]?.locked) return undefined;
    try {
      await client.query("begin");
      // Waits for writes of the old term under way, and holds new ones off until the new term is committed.
      await client.query("select pg_advisory_xact_lock(hashtext($1), 1)", [key]);
      const before = await client.query<{ lease_ttl_ms: number | null; leader_lease_ms: number | null }>("select lease_ttl_ms, leader_lease_ms from leadership for update");
      const row = before.rows[0];
      const found = row?.lease_ttl_ms != null && row.leader_lease_ms != null ? { leaseTtlMs: row.lease_ttl_ms, leaderLeaseMs: row.leader_lease_ms } : undefined;
      const force = record(found);
      const elected = await client.query<{ term: string }>(
        "update leadership set term = term + 1, leader_address = $1, holder = $2, elected_at = now(), lease_ttl_ms = $3, leader_lease_ms = $4 returning term",
        [this.options.advertiseAddress, this.options.holder, force.leaseTtlMs, force.leaderLeaseMs],
      );
      await client.query("commit");
      return { term: Number(elected.rows[0]!.term), found };
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      await client.query("select pg_advisory_unlock(hashtext($1))", [key]).catch(() => undefined);
      throw error;
    }
  }

  /**
   * The current term, read on the lock's session: an answer proves the
   * session, and with it the lock, was still held when it was read. A lost
   * session is replaced, and the lock taken again if nobody else took it.
   * @returns the term, or undefined when another session holds the lock.
   */
  async confirm(): Promise<number | undefined> {
    const reconnecting = !this.client || this.lost;
    const client = await this.session();
    if (reconnecting) {
      const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock(hashtext($1)) as locked", [lockKey(this.options.schema)]);
      if (!rows[0]?.locked) return undefined;
    }
    const { rows } = await client.query<{ term: string }>("select term from leadership");
    return Number(rows[0]!.term);
  }

  /**
   * Guarded by the term, not by the session: after a lost session, session() reconnects without
   * taking the lock again, so it is `where term = $3` that keeps a deposed leader from writing.
   */
  async recordTimings(term: number, timings: LeaseTimings): Promise<void> {
    const client = await this.session();
    await client.query("update leadership set lease_ttl_ms = $1, leader_lease_ms = $2 where term = $3", [timings.leaseTtlMs, timings.leaderLeaseMs, term]);
  }

  /** Who holds the lock now (for the error a second single orchestrator exits with). */
  async holderOfLock(): Promise<LockHolder | undefined> {
    const client = await this.session();
    const { rows } = await client.query<{ pid: number; addr: string | null; holder: string }>(
      `select l.pid, a.client_addr::text as addr, (select holder from leadership) as holder
         from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.objid = hashtext($1)::oid and l.objsubid = 1 and l.granted limit 1`,
      [lockKey(this.options.schema)],
    );
    const row = rows[0];
    return row ? { backendPid: row.pid, clientAddress: row.addr, holder: row.holder } : undefined;
  }

  /** Ends the session, and with it the lock. */
  async release(): Promise<void> {
    this.lost = true;
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
