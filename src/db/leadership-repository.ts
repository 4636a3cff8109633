import type { Db } from "./database.js";

/** The leadership row: the current term and where its leader said instances reach it. */
export interface LeadershipRow {
  term: number;
  leaderAddress: string;
  electedAt: Date | null;
}

/** Reads the current term and leader (standbys, for their go_away hints and status). */
export async function readLeadership(db: Db): Promise<LeadershipRow> {
  const row = await db.selectFrom("leadership").select(["term", "leader_address", "elected_at"]).executeTakeFirstOrThrow();
  return { term: Number(row.term), leaderAddress: row.leader_address, electedAt: row.elected_at };
}
