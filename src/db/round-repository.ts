import { sql, type Transaction } from "kysely";
import type { AuditEvent, InstanceRecord, RoundWrites, StreamOwner } from "../coordinator/store-port.js";
import type { Db } from "./database.js";
import type { Database, InstanceStatus } from "./schema.js";
import { inTransaction } from "./transaction.js";

async function upsertInstances(trx: Transaction<Database>, rows: InstanceRecord[]): Promise<void> {
  if (!rows.length) return;
  const payload = JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      capacity: r.capacity,
      labels: r.labels,
      version: r.version,
      // The status column holds the coordinator's instance state as it is (see postgres-store.ts).
      status: r.state satisfies InstanceStatus,
      draining: r.draining,
      session_id: r.sessionId,
      connected_at: r.connectedAt?.toISOString() ?? null,
      last_seen_at: r.lastSeenAt?.toISOString() ?? null,
      return_by: r.returnBy?.toISOString() ?? null,
    })),
  );
  await sql`
    insert into instances (id, capacity, labels, version, status, draining, session_id, connected_at, last_seen_at, return_by)
    select id, capacity, labels, version, status, draining, session_id, connected_at, last_seen_at, return_by
    from jsonb_to_recordset(${payload}::jsonb) as x(id text, capacity int, labels jsonb, version text, status text, draining boolean,
                                                  session_id text, connected_at timestamptz, last_seen_at timestamptz, return_by timestamptz)
    on conflict (id) do update set
      capacity = excluded.capacity, labels = excluded.labels, version = excluded.version, status = excluded.status,
      draining = excluded.draining, session_id = excluded.session_id, return_by = excluded.return_by,
      connected_at = coalesce(excluded.connected_at, instances.connected_at),
      last_seen_at = coalesce(excluded.last_seen_at, instances.last_seen_at),
      updated_at = now()`.execute(trx);
}

async function releaseRows(trx: Transaction<Database>, rows: StreamOwner[]): Promise<void> {
  if (!rows.length) return;
  await sql`
    delete from assignments a using unnest(${rows.map((r) => r.streamId)}::text[], ${rows.map((r) => r.instanceId)}::text[]) as r(s, i)
    where a.stream_id = r.s and a.instance_id = r.i`.execute(trx);
}

async function grantRows(trx: Transaction<Database>, rows: StreamOwner[]): Promise<Map<string, number>> {
  if (!rows.length) return new Map();
  // The join drops streams deleted or disabled since the round was planned; the caller sends only what comes back.
  const result = await sql<{ stream_id: string; epoch: number }>`
    insert into assignments (stream_id, instance_id, epoch, state, assigned_at)
    select g.s, g.i, nextval('assignment_epoch_seq'), 'active', now()
    from unnest(${rows.map((r) => r.streamId)}::text[], ${rows.map((r) => r.instanceId)}::text[]) with ordinality as g(s, i, n)
    join streams st on st.id = g.s and st.enabled
    order by g.n
    -- A concurrent disable waits for this grant, then removes its row.
    for share of st
    on conflict (stream_id) do update set
      instance_id = excluded.instance_id, epoch = excluded.epoch, state = 'active', assigned_at = excluded.assigned_at
    returning stream_id, epoch`.execute(trx);
  return new Map(result.rows.map((r) => [r.stream_id, Number(r.epoch)]));
}

async function markRevoking(trx: Transaction<Database>, rows: StreamOwner[]): Promise<void> {
  if (!rows.length) return;
  await sql`
    update assignments a set state = 'revoking'
    from unnest(${rows.map((r) => r.streamId)}::text[], ${rows.map((r) => r.instanceId)}::text[]) as r(s, i)
    where a.stream_id = r.s and a.instance_id = r.i`.execute(trx);
}

/** Appends audit events in one statement. */
export async function insertEvents(trx: Transaction<Database> | Db, events: AuditEvent[]): Promise<void> {
  if (!events.length) return;
  const payload = JSON.stringify(
    events.map((e) => ({
      at: e.at.toISOString(),
      kind: e.kind,
      instance_id: e.instanceId ?? null,
      stream_id: e.streamId ?? null,
      detail: e.detail ?? {},
    })),
  );
  await sql`
    insert into events (at, kind, instance_id, stream_id, detail)
    select at, kind, instance_id, stream_id, detail
    from jsonb_to_recordset(${payload}::jsonb) as x(at timestamptz, kind text, instance_id text, stream_id text, detail jsonb)
    order by at`.execute(trx);
}

/**
 * Persists a round: membership first (grants reference instances), then
 * releases, grants with fresh epochs, revocations and the audit trail, all in
 * one transaction retried as a whole.
 * @returns the epoch of every grant that was written.
 */
export function writeRound(db: Db, writes: RoundWrites): Promise<Map<string, number>> {
  return inTransaction(db, async (trx) => {
    await upsertInstances(trx, writes.instances);
    await releaseRows(trx, writes.releases);
    const epochs = await grantRows(trx, writes.grants);
    await markRevoking(trx, writes.revocations);
    await insertEvents(trx, writes.events);
    return epochs;
  });
}
