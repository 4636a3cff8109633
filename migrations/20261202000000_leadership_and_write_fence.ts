import { sql, type Kysely } from "kysely";

// Migrations are append-only: never edit one that has shipped, add a new file.

/** Every table whose rows only the leader may change. */
const FENCED_TABLES = ["instances", "streams", "assignments", "events", "settings"];

export async function up(db: Kysely<unknown>): Promise<void> {
  // One row: the current leadership term, raised by every election, and who won it.
  await db.schema
    .createTable("leadership")
    .addColumn("id", "boolean", (c) => c.primaryKey().defaultTo(true).check(sql`id`))
    .addColumn("term", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("leader_address", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("holder", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("elected_at", "timestamptz")
    .execute();
  await sql`insert into leadership default values`.execute(db);

  // The write fence. An orchestrator's connections say which term they write for
  // (the session setting finger.term, src/db/write-term.ts); a statement on a fenced
  // table from a connection whose term is not the current one fails, so a replica
  // that lost its leadership without noticing cannot change anything. The shared
  // transaction-level lock makes an election (which takes it exclusively to raise the
  // term) wait for writes of the old term under way, and those writes wait for it:
  // a write is either committed before the new term exists or refused after.
  // Connections that name no term (migrations, an operator's psql) are not fenced.
  await sql`
    create function fence_writes() returns trigger language plpgsql
    set search_path from current as $$
    declare
      claimed text := current_setting('finger.term', true);
      current_term bigint;
    begin
      if claimed is null or claimed = '' then
        return null;
      end if;
      perform pg_advisory_xact_lock_shared(hashtext('finger-orchestrator:' || tg_table_schema), 1);
      select term into current_term from leadership;
      if claimed::bigint <= 0 or claimed::bigint <> current_term then
        raise exception 'write refused: this connection writes for leadership term %, the current term is %', claimed, current_term
          using errcode = 'FT001', hint = 'another orchestrator replica leads now';
      end if;
      return null;
    end $$`.execute(db);
  for (const table of FENCED_TABLES) {
    await sql`create trigger fence_writes before insert or update or delete or truncate on ${sql.table(table)}
      for each statement execute function fence_writes()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of FENCED_TABLES) await sql`drop trigger fence_writes on ${sql.table(table)}`.execute(db);
  await sql`drop function fence_writes()`.execute(db);
  await db.schema.dropTable("leadership").execute();
}
