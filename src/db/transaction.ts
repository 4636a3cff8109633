import pRetry from "p-retry";
import type { Transaction } from "kysely";
import type { Db } from "./database.js";
import type { Database } from "./schema.js";

/** PostgreSQL error classes worth another try: connection loss, serialization, deadlock, shutdown. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  if (!code) return /Connection terminated|ECONNRESET|ECONNREFUSED|timeout exceeded when trying to connect/i.test(String((error as Error).message));
  return code.startsWith("08") || code === "40001" || code === "40P01" || code === "57P01" || code === "57P03" || code === "53300";
}

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
