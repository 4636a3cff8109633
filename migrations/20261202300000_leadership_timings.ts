import { sql, type Kysely } from "kysely";

// Migrations are append-only: never edit one that has shipped, add a new file.

export async function up(db: Kysely<unknown>): Promise<void> {
  // The lease durations whose promises may still be in force: an elected leader writes the
  // longer of its own and what it found, and its own once every earlier promise has run out
  // (src/leadership/lease-timings.ts). A replica or a restarted process configured with a
  // shorter LEASE_TTL_MS or LEADER_LEASE_MS than its predecessor then still honours the
  // predecessor's leases. Null: not known (an election by an earlier version).
  await sql`alter table leadership add column lease_ttl_ms integer, add column leader_lease_ms integer`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("leadership").dropColumn("lease_ttl_ms").dropColumn("leader_lease_ms").execute();
}
