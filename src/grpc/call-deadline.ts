import { status, type Deadline, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition, type ServiceError } from "@grpc/grpc-js";
import { describeDatabaseError } from "../db/database-errors.js";
import { countDatabaseWaits, type DatabaseWaits } from "../db/kysely-pool.js";
import type { Logger } from "../log/logger.js";

type UnaryHandler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

function deadlineMs(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/** What a call that ran out of time was still waiting for, from the database work it had under way. */
function waitingFor(waits: DatabaseWaits): string {
  if (waits.connecting > 0) return "a connection to the database";
  if (waits.querying > 0) return "the database to answer";
  if (waits.lastError !== undefined) return `the database (last error: ${describeDatabaseError(waits.lastError)})`;
  return "the coordinator's scheduling round";
}

/**
 * Bounds every unary method of a service: after `timeoutMs` (or at the
 * client's own deadline, if sooner) the call ends with UNAVAILABLE (or
 * DEADLINE_EXCEEDED) naming what it was waiting for. The work it started is
 * not interrupted: a transaction still commits or rolls back whole, so a call
 * that timed out may have taken effect, as with any RPC.
 */
export function withCallDeadlines<T extends object>(definition: ServiceDefinition, implementation: T, timeoutMs: number, logger: Logger): T {
  const bounded = { ...implementation } as Record<string, unknown>;
  for (const [name, method] of Object.entries(definition)) {
    const handler = (implementation as Record<string, unknown>)[name];
    if (method.requestStream || method.responseStream || typeof handler !== "function") continue;
    const methodName = method.path.split("/").pop() ?? name;
    bounded[name] = ((call, callback) => {
      const waits: DatabaseWaits = { connecting: 0, querying: 0 };
      const clientLeft = deadlineMs(call.getDeadline()) - Date.now();
      const byClient = clientLeft < timeoutMs;
      const budget = Math.max(0, Math.min(timeoutMs, clientLeft));
      let answered = false;
      const answer: sendUnaryData<unknown> = (error, value) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        callback(error, value);
      };
      const timer = setTimeout(() => {
        const what = waitingFor(waits);
        logger.warn({ method: methodName, waitingFor: what, timeoutMs: budget }, "admin call ran out of time");
        const error: Partial<ServiceError> = byClient
          ? { code: status.DEADLINE_EXCEEDED, details: `${methodName} reached the client's deadline (${budget} ms) waiting for ${what}; it may still take effect` }
          : { code: status.UNAVAILABLE, details: `${methodName} gave up after ${budget} ms (ADMIN_CALL_TIMEOUT_MS) waiting for ${what}; it may still take effect` };
        answer(error);
      }, budget);
      countDatabaseWaits(waits, () => (handler as UnaryHandler).call(implementation, call, answer));
    }) satisfies UnaryHandler;
  }
  return bounded as T;
}
