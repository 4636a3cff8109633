import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { HealthCheckResponse_ServingStatus, HealthClient } from "../gen/grpc/health/v1/health.js";
import { AdminServiceClient, type StreamSpec, type UpsertStreamsResponse } from "../gen/orchestrator/v1/admin.js";
import { ImportError } from "./parse-rows.js";

/** How long sending may take. */
export interface SendOptions {
  /** Reaching the orchestrator and hearing it is serving. */
  connectTimeoutMs?: number;
  /** The UpsertStreams call itself: up to 10000 rows in one transaction. */
  callTimeoutMs?: number;
}

/**
 * The orchestrator's gRPC address: the flag, else ORCHESTRATOR_ADDRESS, else
 * 127.0.0.1 on GRPC_PORT, so the environment the server was started with works as is.
 */
export function resolveAddress(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined) {
    if (flag.trim() === "") throw new ImportError("--address must be host:port");
    return flag.trim();
  }
  return env.ORCHESTRATOR_ADDRESS?.trim() || `127.0.0.1:${env.GRPC_PORT?.trim() || "50051"}`;
}

/**
 * Sends the specs in ONE UpsertStreams call, so the server's transaction makes
 * the import all or nothing. A health check first tells "cannot reach" apart
 * from "slow to write", which matters because a timed-out write may still commit.
 * @param rows the file row of each spec, to translate the server's `streams[i]` back.
 * @throws ImportError with a one-line, operator-facing message.
 */
export async function sendStreams(
  address: string,
  specs: StreamSpec[],
  rows: readonly number[],
  options: SendOptions = {},
): Promise<UpsertStreamsResponse> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const callTimeoutMs = options.callTimeoutMs ?? 60_000;
  const admin = new AdminServiceClient(address, credentials.createInsecure());
  const health = new HealthClient(address, credentials.createInsecure(), { channelOverride: admin.getChannel() });
  try {
    const serving = await new Promise<HealthCheckResponse_ServingStatus>((resolve, reject) =>
      health.check({ service: "" }, new Metadata(), { deadline: Date.now() + connectTimeoutMs }, (error, response) =>
        error ? reject(error) : resolve(response.status),
      ),
    ).catch((error: ServiceError) => {
      if (error.code === status.UNIMPLEMENTED) throw new ImportError(`${address} does not answer like a finger orchestrator: ${error.details}`);
      throw unreachable(address, error, connectTimeoutMs);
    });
    if (serving !== HealthCheckResponse_ServingStatus.SERVING) {
      throw new ImportError(`the orchestrator at ${address} is not serving (starting or shutting down); try again in a moment`);
    }
    return await new Promise<UpsertStreamsResponse>((resolve, reject) =>
      admin.upsertStreams({ streams: specs }, new Metadata(), { deadline: Date.now() + callTimeoutMs }, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    ).catch((error: ServiceError) => {
      throw describeUpsertError(address, error, rows, callTimeoutMs);
    });
  } finally {
    health.close();
    admin.close();
  }
}

function describeUpsertError(address: string, error: ServiceError, rows: readonly number[], timeoutMs: number): ImportError {
  switch (error.code) {
    case status.INVALID_ARGUMENT: {
      // The server names entries `streams[i].field`; the operator thinks in file rows.
      const match = /^streams\[(\d+)\]\.?(.*)$/.exec(error.details);
      const row = match ? rows[Number(match[1])] : undefined;
      return new ImportError(row !== undefined ? `row ${row}: ${match?.[2]}` : `the orchestrator rejected the import: ${error.details}`);
    }
    case status.UNAVAILABLE:
      return unreachable(address, error, timeoutMs);
    case status.DEADLINE_EXCEEDED:
      return new ImportError(
        `no answer from the orchestrator at ${address} within ${timeoutMs / 1000} s; the import may or may not have been applied (running it again is safe)`,
      );
    default:
      return new ImportError(`UpsertStreams failed at ${address}: ${status[error.code] ?? error.code}: ${error.details}`);
  }
}

function unreachable(address: string, error: ServiceError, timeoutMs: number): ImportError {
  const reason =
    error.code === status.DEADLINE_EXCEEDED
      ? `no answer within ${timeoutMs / 1000} s`
      : error.details
          .replace(/^No connection established\. Last error: (Error: )?/, "")
          .replace(/\.? Resolution note: ?$/, "") || status[error.code];
  return new ImportError(`cannot reach the orchestrator at ${address}: ${reason}`);
}
