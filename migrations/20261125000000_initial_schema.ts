import { sql, type Kysely } from "kysely";

// Migrations are append-only: never edit one that has shipped, add a new file.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("instances")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("capacity", "integer", (c) => c.notNull().check(sql`capacity >= 0`))
    .addColumn("labels", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("version", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("status", "text", (c) =>
      c.notNull().defaultTo("disconnected").check(sql`status in ('connected', 'disconnected', 'dead', 'left')`),
    )
    .addColumn("draining", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("session_id", "text")
    .addColumn("registered_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("connected_at", "timestamptz")
    .addColumn("last_seen_at", "timestamptz")
    .addColumn("metrics", "jsonb")
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("streams")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("metadata", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("enabled", "boolean", (c) => c.notNull().defaultTo(true))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // One sequence for all grants: an epoch is never reused, even across streams.
  await sql`create sequence assignment_epoch_seq as bigint`.execute(db);

  await db.schema
    .createTable("assignments")
    .addColumn("stream_id", "text", (c) => c.primaryKey().references("streams.id").onDelete("cascade"))
    .addColumn("instance_id", "text", (c) => c.notNull().references("instances.id").onDelete("cascade"))
    .addColumn("epoch", "bigint", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull().defaultTo("active").check(sql`state in ('active', 'revoking')`))
    .addColumn("assigned_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("assignments_instance_idx").on("assignments").column("instance_id").execute();

  await db.schema
    .createTable("events")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("instance_id", "text")
    .addColumn("stream_id", "text")
    .addColumn("detail", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema.createIndex("events_at_idx").on("events").column("at").execute();
  await db.schema.createIndex("events_stream_idx").on("events").columns(["stream_id", "id"]).execute();
  await db.schema.createIndex("events_instance_idx").on("events").columns(["instance_id", "id"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("events").execute();
  await db.schema.dropTable("assignments").execute();
  await sql`drop sequence assignment_epoch_seq`.execute(db);
  await db.schema.dropTable("streams").execute();
  await db.schema.dropTable("instances").execute();
}
