import { sql } from "kysely";
import type { Db } from "./database.js";

/** A rebalancing freeze as persisted: until when (null: until lifted) and why. */
export interface FreezeSetting {
  until: string | null;
  reason: string;
}

const FREEZE_KEY = "rebalancing_freeze";

/** Reads the freeze in force, if any. */
export async function loadFreeze(db: Db): Promise<FreezeSetting | undefined> {
  const row = await db.selectFrom("settings").select("value").where("key", "=", FREEZE_KEY).executeTakeFirst();
  return row?.value as FreezeSetting | undefined;
}

/** Records a freeze so that it survives a restart. */
export async function saveFreeze(db: Db, freeze: FreezeSetting): Promise<void> {
  await sql`
    insert into settings (key, value) values (${FREEZE_KEY}, ${JSON.stringify(freeze)}::jsonb)
    on conflict (key) do update set value = excluded.value, updated_at = now()`.execute(db);
}

const RESTART_LEASE_KEY = "restart_lease_ms";

/** The lease extension the last orchestrator promised at shutdown; 0 when none. */
export async function loadRestartLease(db: Db): Promise<number> {
  const row = await db.selectFrom("settings").select("value").where("key", "=", RESTART_LEASE_KEY).executeTakeFirst();
  const value = Number(row?.value ?? 0);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Records the extension before it is promised, so that the next process honours it. */
export async function saveRestartLease(db: Db, ms: number): Promise<void> {
  await sql`
    insert into settings (key, value) values (${RESTART_LEASE_KEY}, ${JSON.stringify(ms)}::jsonb)
    on conflict (key) do update set value = excluded.value, updated_at = now()`.execute(db);
}

/** Lifts the freeze; true when one was in force. */
export async function clearFreeze(db: Db): Promise<boolean> {
  const result = await db.deleteFrom("settings").where("key", "=", FREEZE_KEY).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
