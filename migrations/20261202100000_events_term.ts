import { sql, type Kysely } from "kysely";

// Migrations are append-only: never edit one that has shipped, add a new file.

export async function up(db: Kysely<unknown>): Promise<void> {
  // The leadership term of the replica that wrote each event, taken from the
  // connection's own claim (finger.term, src/db/write-term.ts) so that no code path
  // can forget it. An audit can then tell which leader did what, and check the write
  // fence after the fact: in id order the terms never go down, since a write of an
  // old term either commits before the next election or is refused. Null for rows
  // written by a connection that claims no term (an operator's psql, old rows).
  await sql`alter table events add column term bigint default nullif(current_setting('finger.term', true), '')::bigint`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("events").dropColumn("term").execute();
}
