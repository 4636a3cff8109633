import { sql, type Kysely } from "kysely";

// Migrations are append-only: never edit one that has shipped, add a new file.

export async function up(db: Kysely<unknown>): Promise<void> {
  // When an instance that left to return (Leave with return_within_ms) must be back: wall
  // clock, since it must outlive this process. A restarted orchestrator keeps the instance's
  // streams until then, as the one it said goodbye to would have. Null: no return promised.
  await sql`alter table instances add column return_by timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("instances").dropColumn("return_by").execute();
}
