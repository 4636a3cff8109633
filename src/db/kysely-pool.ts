import { AsyncLocalStorage } from "node:async_hooks";
import type { PostgresPool, PostgresPoolClient } from "kysely";
import type pg from "pg";
import { QueryTimeoutError } from "./database-errors.js";
import { isFencedWrite, type WriteTerm } from "./write-term.js";

/** The database work one caller (an admin call) has under way, counted across everything it awaits. */
export interface DatabaseWaits {
  connecting: number;
  querying: number;
  /** The last database error it met, e.g. while a retry waits for its next attempt. */
  lastError?: unknown;
}

const waitsOfCaller = new AsyncLocalStorage<DatabaseWaits>();

/** Runs `fn` with the connections and queries it starts (and what they start) counted in `waits`. */
export function countDatabaseWaits<T>(waits: DatabaseWaits, fn: () => T): T {
  return waitsOfCaller.run(waits, fn);
}

function counted<T>(kind: "connecting" | "querying", work: Promise<T>): Promise<T> {
  const waits = waitsOfCaller.getStore();
  if (!waits) return work;
  waits[kind]++;
  return work.then(
    (value) => {
      waits[kind]--;
      return value;
    },
    (error: unknown) => {
      waits[kind]--;
      waits.lastError = error;
      throw error;
    },
  );
}

/**
 * A pooled connection whose query ran past pg's `query_timeout` is given up.
 * pg only stops waiting: the query stays in flight, and whatever is queued
 * behind it, Kysely's ROLLBACK included, would wait for it and then time out
 * too. So every later query on it fails at once (Kysely then discards it) and
 * its release destroys it; the server ends the open transaction, uncommitted,
 * when it finds the connection closed.
 */
function guardClient(client: pg.PoolClient, timeoutMs: number, term: WriteTerm | undefined): PostgresPoolClient {
  let abandoned: QueryTimeoutError | undefined;
  const query = (sql: string, parameters: ReadonlyArray<unknown>) => {
    if (abandoned) return Promise.reject(abandoned);
    const sent = client.query(sql, [...parameters]).catch((error: unknown) => {
      if (error instanceof Error && error.message === "Query read timeout") abandoned = new QueryTimeoutError(timeoutMs);
      if (term && isFencedWrite(error)) term.fenced(error as Error);
      throw abandoned ?? error;
    });
    return counted("querying", sent);
  };
  return {
    // Kysely uses the cursor overload only for a dialect given a cursor class, which this one is not.
    query: query as unknown as PostgresPoolClient["query"],
    release: (destroy?: boolean) => client.release(abandoned ?? destroy),
  };
}

/** Tells the server which term a connection writes for, unless it was told already. */
async function claimTerm(client: pg.PoolClient, term: WriteTerm | undefined, claimed: WeakMap<pg.PoolClient, number>): Promise<void> {
  const value = term?.value;
  if (value === undefined || claimed.get(client) === value) return;
  try {
    await client.query("select set_config('finger.term', $1, false)", [String(value)]);
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
  claimed.set(client, value);
}

/**
 * The pool as Kysely uses it: connections are counted for the caller waiting
 * on them, claim the process's write term, and one whose query timed out is
 * not used again.
 */
export function kyselyPool(pool: pg.Pool, queryTimeoutMs: number, term?: WriteTerm): PostgresPool {
  const guarded = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const claimed = new WeakMap<pg.PoolClient, number>();
  return {
    connect: async () => {
      const client = await counted("connecting", pool.connect());
      await claimTerm(client, term, claimed);
      let wrapper = guarded.get(client);
      if (!wrapper) {
        wrapper = guardClient(client, queryTimeoutMs, term);
        guarded.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}
