import { Metadata, status, type sendUnaryData, type ServerUnaryCall, type ServiceError } from "@grpc/grpc-js";
import type { Logger } from "../log/logger.js";
import { ShuttingDownError } from "../coordinator/round-runner.js";
import { FieldError } from "../domain/field-error.js";

/** A lookup that found nothing; becomes NOT_FOUND. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

function toServiceError(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  if (error instanceof FieldError) return { code: status.INVALID_ARGUMENT, details: error.message };
  if (error instanceof NotFoundError) return { code: status.NOT_FOUND, details: error.message };
  if (error instanceof ShuttingDownError) return { code: status.UNAVAILABLE, details: error.message };
  logger.error({ err: error, method }, "admin call failed");
  return { code: status.INTERNAL, details: `internal error: ${(error as Error).message}`, metadata: new Metadata() };
}

/**
 * Adapts an async handler to grpc-js's callback style: domain errors become
 * INVALID_ARGUMENT, NOT_FOUND or (during shutdown) UNAVAILABLE with their
 * message, anything else INTERNAL.
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
