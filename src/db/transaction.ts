import pRetry from "p-retry";
import type { Transaction } from "kysely";
import type { Db } from "./database.js";
import { isTransient } from "./database-errors.js";
import type { Database } from "./schema.js";

/**
 * Runs `work` in one transaction, retried from the start on transient
 * failures. The transaction either commits whole or leaves nothing behind,
 * so a retry never finds half of an earlier attempt.
 */
export function inTransaction<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>, retries = 4): Promise<T> {
  return pRetry(() => db.transaction().execute(work), {
    retries,
    minTimeout: 50,
    maxTimeout: 1_000,
    shouldRetry: isTransient,
  });
}
