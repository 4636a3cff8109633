/**
 * What a database error means for the caller, in one place: the transaction
 * retry, the wait for the database at start-up and the admin API's status
 * codes all decide from {@link classifyDatabaseError}.
 */

/** The database did not answer a query within the client-side bound (DB_QUERY_TIMEOUT_MS). */
export class QueryTimeoutError extends Error {
  override name = "QueryTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`the database did not answer within ${timeoutMs} ms (DB_QUERY_TIMEOUT_MS)`);
  }
}

/** A failure that is the database's state, not the request's. */
export interface DatabaseFault {
  /** `unavailable`: unreachable, shutting down, full or not answering; `conflict`: it aborted the transaction for a concurrent one. */
  kind: "unavailable" | "conflict";
  /**
   * Worth running the transaction again at once: nothing of it committed and
   * another attempt may well succeed. Not so for a database that stopped
   * answering: the next attempt would wait just as long.
   */
  retry: boolean;
}

// Socket errors node-postgres passes on with their code: the server is not reachable, or the connection broke.
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

// node-postgres's and pg-pool's own words for a connection lost, or not opened in time; these carry no code.
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;

const UNAVAILABLE: DatabaseFault = { kind: "unavailable", retry: true };
const NOT_ANSWERING: DatabaseFault = { kind: "unavailable", retry: false };
const CONFLICT: DatabaseFault = { kind: "conflict", retry: true };

function classifyOne(error: { code?: unknown; message?: unknown }): DatabaseFault | undefined {
  if (error instanceof QueryTimeoutError || error.message === "Query read timeout") return NOT_ANSWERING;
  const code = typeof error.code === "string" ? error.code : "";
  if (NETWORK_CODES.has(code)) return UNAVAILABLE;
  // SQLSTATE class 08: connection exception. 57P01-57P03: the server is shutting down, crashed or still starting. 53300: too many connections.
  if (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300") return UNAVAILABLE;
  // Serialization failure and deadlock: the whole transaction may run again.
  if (code === "40001" || code === "40P01") return CONFLICT;
  // 57014: the server cancelled the statement (statement_timeout, or an operator): it is slow or blocked, and retrying at once would wait as long.
  if (code === "57014") return NOT_ANSWERING;
  if (!code && typeof error.message === "string" && CONNECTION_MESSAGES.test(error.message)) return UNAVAILABLE;
  return undefined;
}

/**
 * Classifies a database error; undefined for errors that are the request's
 * own (a constraint, bad SQL, a wrong password or database name). Looks
 * through `cause` and an AggregateError's `errors` (a host with several
 * addresses), since pg and net wrap the socket error.
 */
export function classifyDatabaseError(error: unknown): DatabaseFault | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const next = queue.shift();
    if (typeof next !== "object" || next === null || seen.has(next)) continue;
    seen.add(next);
    const fault = classifyOne(next as { code?: unknown; message?: unknown });
    if (fault) return fault;
    const { cause, errors } = next as { cause?: unknown; errors?: unknown };
    queue.push(cause, ...(Array.isArray(errors) ? errors : []));
  }
  return undefined;
}

/** Worth another attempt of the whole transaction: connection loss, a server restarting or full, serialization, deadlock. */
export function isTransient(error: unknown): boolean {
  return classifyDatabaseError(error)?.retry === true;
}

/** A one-line description of a database error, for the start-up failure message and the admin API. */
export function describeDatabaseError(error: unknown): string {
  const e = error as { code?: string; message?: string; errors?: Array<{ message?: string }> };
  const message = e.message || e.errors?.map((x) => x.message).join(", ") || String(error);
  return e.code ? `${message} (${e.code})` : message;
}
