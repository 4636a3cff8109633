import pg from "pg";
import type { Logger } from "../log/logger.js";

/**
 * A session-level PostgreSQL advisory lock that says "an orchestrator runs on
 * this schema". Until several replicas can share a database (with a leader
 * and fenced writes), a second orchestrator started by mistake against the
 * same database must not write beside the first: it finds the lock taken and
 * refuses to start. The lock lives as long as its connection, which is kept
 * apart from the pool so that nothing else ever releases it.
 */
export class OrchestratorLock {
  private constructor(private readonly client: pg.Client) {}

  /**
   * Takes the lock of `schema` on the database at `url`.
   * @throws Error naming the cause when another orchestrator holds it.
   */
  static async acquire(url: string, schema: string, logger: Logger): Promise<OrchestratorLock> {
    const client = new pg.Client({ connectionString: url, application_name: "finger-orchestrator (lock)", keepAlive: true });
    await client.connect();
    try {
      const key = `finger-orchestrator:${schema}`;
      const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock(hashtext($1)) as locked", [key]);
      if (!rows[0]?.locked) {
        const holder = await client.query<{ pid: number; addr: string | null; app: string }>(
          `select l.pid, a.client_addr::text as addr, a.application_name as app
             from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.objid = hashtext($1)::oid and l.granted limit 1`,
          [key],
        );
        const who = holder.rows[0] ? ` (held by backend ${holder.rows[0].pid}${holder.rows[0].addr ? ` from ${holder.rows[0].addr}` : ""})` : "";
        throw new Error(`another orchestrator is already running on schema "${schema}" of this database${who}; only one may run until replicas are supported`);
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    // Losing this connection loses the lock; say so, so an operator knows why a second one could start.
    client.on("error", (error) => logger.error({ err: error }, "lost the connection holding the single-orchestrator lock"));
    return new OrchestratorLock(client);
  }

  async release(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
