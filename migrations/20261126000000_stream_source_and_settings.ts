import { sql, type Kysely } from "kysely";

// Migrations are append-only: never edit one that has shipped, add a new file.

export async function up(db: Kysely<unknown>): Promise<void> {
  // Where a catalog row came from: the admin API, or the users' own table followed by the sync.
  await db.schema
    .alterTable("streams")
    .addColumn("source", "text", (c) => c.notNull().defaultTo("api").check(sql`source in ('api', 'table')`))
    .execute();

  // Operator switches that must survive a restart (e.g. a rebalancing freeze during a deploy).
  await db.schema
    .createTable("settings")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "jsonb", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("settings").execute();
  await db.schema.alterTable("streams").dropColumn("source").execute();
}
