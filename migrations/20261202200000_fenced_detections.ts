import { sql, type Kysely } from "kysely";

// Migrations are append-only: never edit one that has shipped, add a new file.

export async function up(db: Kysely<unknown>): Promise<void> {
  // holds(stream, instance, epoch): does that instance still own the stream under that
  // epoch? A worker calls it in the transaction that writes what it recorded, e.g.
  //   insert into music_log (...) select ... where orchestrator.holds($1, $2, $3)
  // It locks the assignment row FOR SHARE, so the orchestrator's next change of that row
  // (a grant to another instance is an update of it, a release a delete) waits until the
  // worker's transaction ends, and once that change is committed the old epoch no longer
  // matches: a write is either committed before the handover or refused after it.
  // SECURITY DEFINER: a worker's role needs EXECUTE on this function and USAGE on the
  // schema, and no right on the orchestrator's tables.
  await sql`
    create function holds(p_stream_id text, p_instance_id text, p_epoch bigint) returns boolean
    language plpgsql volatile security definer
    set search_path from current as $$
    begin
      perform 1 from assignments a
        where a.stream_id = p_stream_id and a.instance_id = p_instance_id and a.epoch = p_epoch
        for share;
      return found;
    end $$`.execute(db);
  await sql`revoke all on function holds(text, text, bigint) from public`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function holds(text, text, bigint)`.execute(db);
}
