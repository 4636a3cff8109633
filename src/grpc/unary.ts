import { Metadata, status, type sendUnaryData, type ServerUnaryCall, type ServiceError } from "@grpc/grpc-js";
import type { Logger } from "../log/logger.js";
import { ShuttingDownError } from "../coordinator/round-runner.js";
import { classifyDatabaseError, describeDatabaseError } from "../db/database-errors.js";
import { FieldError } from "../domain/field-error.js";

/** A lookup that found nothing; becomes NOT_FOUND. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

function toServiceError(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  if (error instanceof FieldError) return { code: status.INVALID_ARGUMENT, details: error.message };
  if (error instanceof NotFoundError) return { code: status.NOT_FOUND, details: error.message };
  if (error instanceof ShuttingDownError) return { code: status.UNAVAILABLE, details: error.message };
  // Reached only after the transaction's own retries: the caller may try again later, so not INTERNAL.
  const fault = classifyDatabaseError(error);
  if (fault) {
    logger.warn({ err: error, method }, "admin call failed: database unavailable");
    return fault.kind === "conflict"
      ? { code: status.ABORTED, details: `the database aborted the transaction for a concurrent one: ${describeDatabaseError(error)}; try again` }
      : { code: status.UNAVAILABLE, details: `the database is unavailable: ${describeDatabaseError(error)}` };
  }
  logger.error({ err: error, method }, "admin call failed");
  return { code: status.INTERNAL, details: `internal error: ${(error as Error).message}`, metadata: new Metadata() };
}

/**
 * Adapts an async handler to grpc-js's callback style: domain errors become
 * INVALID_ARGUMENT, NOT_FOUND or (during shutdown) UNAVAILABLE with their
 * message, a database that cannot be reached or does not answer UNAVAILABLE,
 * a transaction the database aborted for a concurrent one ABORTED, anything
 * else INTERNAL.
 */
export function unary<Req, Res>(
  method: string,
  logger: Logger,
  handler: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    handler(call.request, call).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toServiceError(error, logger, method)),
    );
  };
}
