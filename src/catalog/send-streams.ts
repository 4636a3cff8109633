import { status, type ServiceError } from "@grpc/grpc-js";
import { callMetadata, channelCredentials, type ConnectionSecurity } from "../client/connection-security.js";
import { HealthCheckResponse_ServingStatus, HealthClient } from "../gen/grpc/health/v1/health.js";
import { AdminServiceClient, type StreamSpec, type UpsertStreamsResponse } from "../gen/orchestrator/v1/admin.js";
import { ImportError } from "./parse-rows.js";

/** How to reach the orchestrator, and how long sending may take. */
export interface SendOptions {
  /** The admin token and TLS settings; default: plaintext, no token. */
  security?: ConnectionSecurity;
  /** Reaching the orchestrator and hearing it is serving. */
  connectTimeoutMs?: number;
  /** The UpsertStreams call itself: up to 10000 rows in one transaction. */
  callTimeoutMs?: number;
  /** Told when `address` is a standby replica and the import goes to the leader it names instead. */
  onLeader?: (standby: string, leader: string) => void;
}

/**
 * Sends the specs in ONE UpsertStreams call, so the server's transaction makes
 * the import all or nothing. A health check first tells "cannot reach" apart
 * from "slow to write", which matters because a timed-out write may still commit.
 * With several replicas any of them may be given: a standby names the leader
 * (GetStatus), and the import is sent there, once.
 * @param rows the file row of each spec, to translate the server's `streams[i]` back.
 * @throws ImportError with a one-line, operator-facing message.
 */
export async function sendStreams(
  address: string,
  specs: StreamSpec[],
  rows: readonly number[],
  options: SendOptions = {},
): Promise<UpsertStreamsResponse> {
  const outcome = await sendTo(address, specs, rows, options);
  if (outcome.kind === "sent") return outcome.response;
  options.onLeader?.(address, outcome.leader);
  // Once: replicas that name each other (an election under way) are not followed round in circles.
  const again = await sendTo(outcome.leader, specs, rows, options);
  if (again.kind === "sent") return again.response;
  throw new ImportError(`${address} is a standby replica naming ${outcome.leader} as the leader, which says the same of ${again.leader}; try again in a moment`);
}

type Outcome = { kind: "sent"; response: UpsertStreamsResponse } | { kind: "standby"; leader: string };

async function sendTo(address: string, specs: StreamSpec[], rows: readonly number[], options: SendOptions): Promise<Outcome> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const callTimeoutMs = options.callTimeoutMs ?? 60_000;
  const security = options.security ?? {};
  const metadata = callMetadata(security);
  const credentials = channelCredentials(security);
  const admin = new AdminServiceClient(address, credentials);
  const health = new HealthClient(address, credentials, { channelOverride: admin.getChannel() });
  try {
    const serving = await new Promise<HealthCheckResponse_ServingStatus>((resolve, reject) =>
      health.check({ service: "" }, metadata, { deadline: Date.now() + connectTimeoutMs }, (error, response) =>
        error ? reject(error) : resolve(response.status),
      ),
    ).catch((error: ServiceError) => {
      if (error.code === status.UNIMPLEMENTED) throw new ImportError(`${address} does not answer like a finger orchestrator: ${error.details}`);
      throw unreachable(address, error, connectTimeoutMs, security.tls !== undefined);
    });
    // A standby reports NOT_SERVING (it schedules nothing) but names the leader.
    const replica = await roleOf(admin, metadata, connectTimeoutMs);
    if (replica && replica.role !== "leader") {
      if (!replica.leaderAddress) throw new ImportError(`the orchestrator at ${address} is a ${replica.role} replica and knows no leader yet; try again in a moment`);
      return { kind: "standby", leader: replica.leaderAddress };
    }
    if (serving !== HealthCheckResponse_ServingStatus.SERVING) {
      throw new ImportError(`the orchestrator at ${address} is not serving (starting or shutting down); try again in a moment`);
    }
    const response = await new Promise<UpsertStreamsResponse>((resolve, reject) =>
      admin.upsertStreams({ streams: specs }, metadata, { deadline: Date.now() + callTimeoutMs }, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    ).catch((error: ServiceError) => {
      throw describeUpsertError(address, error, rows, callTimeoutMs, security.tls !== undefined);
    });
    return { kind: "sent", response };
  } finally {
    health.close();
    admin.close();
  }
}

/**
 * The replica's role and the leader it names; undefined when it cannot say (an
 * older orchestrator, a token that may not read the status): the upsert then
 * reports whatever the server answers.
 */
async function roleOf(admin: AdminServiceClient, metadata: ReturnType<typeof callMetadata>, timeoutMs: number): Promise<{ role: string; leaderAddress: string } | undefined> {
  return new Promise((resolve) =>
    admin.getStatus({}, metadata, { deadline: Date.now() + timeoutMs }, (error, response) =>
      resolve(error || !response.role ? undefined : { role: response.role, leaderAddress: response.leaderAddress }),
    ),
  );
}

function describeUpsertError(address: string, error: ServiceError, rows: readonly number[], timeoutMs: number, tls: boolean): ImportError {
  switch (error.code) {
    case status.INVALID_ARGUMENT: {
      // The server names entries `streams[i].field`; the operator thinks in file rows.
      const match = /^streams\[(\d+)\]\.?(.*)$/.exec(error.details);
      const row = match ? rows[Number(match[1])] : undefined;
      return new ImportError(row !== undefined ? `row ${row}: ${match?.[2]}` : `the orchestrator rejected the import: ${error.details}`);
    }
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED:
      // The server's message names the rule; the operator also needs to know where the token comes from.
      return new ImportError(`UpsertStreams refused at ${address}: ${status[error.code]}: ${error.details}; set ORCHESTRATOR_TOKEN to an admin token`);
    case status.UNAVAILABLE:
      return unreachable(address, error, timeoutMs, tls);
    case status.DEADLINE_EXCEEDED:
      return new ImportError(
        `no answer from the orchestrator at ${address} within ${timeoutMs / 1000} s; the import may or may not have been applied (running it again is safe)`,
      );
    default:
      return new ImportError(`UpsertStreams failed at ${address}: ${status[error.code] ?? error.code}: ${error.details}`);
  }
}

function unreachable(address: string, error: ServiceError, timeoutMs: number, tls: boolean): ImportError {
  let reason =
    error.code === status.DEADLINE_EXCEEDED
      ? `no answer within ${timeoutMs / 1000} s`
      : error.details
          .replace(/^No connection established\. Last error: (Error: )?/, "")
          .replace(/\.? Resolution note: ?$/, "")
          .replace(/ \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/, "") || status[error.code];
  // A TLS mismatch shows only as a broken connection (plaintext to TLS) or an OpenSSL record error (TLS to plaintext).
  if (tls && /wrong version number/.test(reason)) reason = "it does not answer TLS (a plaintext port? then give host:port or grpc://)";
  else if (tls && /certificate/.test(reason)) reason += " (is its CA in ORCHESTRATOR_CA_FILE?)";
  else if (!tls && reason === "Failed to connect") reason += " (if it serves TLS, give grpcs://host:port)";
  return new ImportError(`cannot reach the orchestrator at ${address}: ${reason}`);
}
