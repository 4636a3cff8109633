/**
 * What a run with several replicas checks in the database itself, on a
 * connection of its own (no term claimed, so never fenced): the grants
 * recorded since a moment, the events by kind, and the write fence after the
 * fact. Every event carries the term of the connection that wrote it
 * (migrations/20261202100000_events_term.ts); in id order the terms never go
 * down, since an old term's write either commits before the next election or
 * is refused after it, and each term is won by one election.
 */
import pg from "pg";
import type { Timeline } from "./timeline.js";

export class DatabaseAudit {
  private readonly pool: pg.Pool;

  constructor(url: string) {
    // The orchestrator's tables live in its own schema (DB_SCHEMA, "orchestrator" by default).
    this.pool = new pg.Pool({ connectionString: url, max: 2, options: "-c search_path=orchestrator" });
    this.pool.on("error", () => undefined); // the run restarts the server; the next query reconnects
  }

  /** stream.assigned events written at or after `since`. */
  async grantsSince(since: Date): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>("select count(*) as n from events where kind = 'stream.assigned' and at >= $1", [since]);
    return Number(rows[0]!.n);
  }

  /** Events by kind written at or after `since`. */
  async eventsSince(since: Date): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ kind: string; n: string }>("select kind, count(*) as n from events where at >= $1 group by kind", [since]);
    return Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
  }

  /** Records a violation for any event written for an older term than one before it, and for a term elected twice. @returns the terms seen. */
  async checkFence(timeline: Timeline): Promise<number> {
    const { rows: older } = await this.pool.query<{ id: string; kind: string; term: string; after: string }>(`
      select id, kind, term, after from (
        select id, kind, term, max(term) over (order by id rows between unbounded preceding and 1 preceding) as after from events
      ) e where term < after order by id limit 10`);
    for (const r of older) timeline.violation("an old term's write was accepted", { eventId: r.id, kind: r.kind, term: Number(r.term), afterTerm: Number(r.after) });
    const { rows: elected } = await this.pool.query<{ term: string; n: string }>(`
      select term, count(*) as n from events where kind = 'leader.elected' group by term having count(*) > 1`);
    for (const r of elected) timeline.violation("a term was elected twice", { term: Number(r.term), elections: Number(r.n) });
    const { rows: terms } = await this.pool.query<{ n: string }>("select count(distinct term) as n from events where term is not null");
    return Number(terms[0]!.n);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
