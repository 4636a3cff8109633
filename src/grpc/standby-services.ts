import { status, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from "@grpc/grpc-js";
import { AdminServiceService, type AdminServiceServer } from "../gen/orchestrator/v1/admin.js";
import type { ConnectRequest } from "../gen/orchestrator/v1/orchestrator.js";
import type { ReplicaStatus } from "../leadership/replica-status.js";
import type { About } from "../status/about.js";
import { fleetStatus } from "../status/fleet-status.js";
import { loadCatalogSnapshot } from "../db/catalog-snapshot.js";
import type { Db } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import { catalogReadHandlers } from "./admin-catalog-reads.js";
import { statusToMessage } from "./admin-mappers.js";
import { withCallDeadlines } from "./call-deadline.js";
import { encodeResponse } from "./connect-service.js";

/** A fleet loads in well under a second; a retry after this finds the new leader serving. */
const TAKING_OVER_RETRY_MS = 250;

/**
 * A replica that does not lead answers an instance's Connect at once: a
 * go_away naming the leader (the instance tries it next), then UNAVAILABLE.
 */
export function standbyConnect(call: ServerDuplexStream<ConnectRequest, Buffer>, replica: ReplicaStatus): void {
  // Between its election and serving (the fleet loading), a new leader still answers here: it says so
  // rather than "not the leader" with its own address, and asks for a short wait before the retry.
  const takingOver = replica.role === "leader";
  const reason = takingOver ? "elected, loading the fleet" : replica.role === "standby" ? "standby" : "not the leader";
  const goAway = { reason, reconnectAfterMs: takingOver ? TAKING_OVER_RETRY_MS : 0, leaseExtensionMs: 0, leaderAddress: replica.leaderAddress };
  const details = notLeading(replica);
  // A client that closes at once must not turn its reset into an unhandled error.
  call.on("error", () => undefined);
  call.write(encodeResponse({ msg: { $case: "goAway", value: goAway } }), () => {
    call.emit("error", { code: status.UNAVAILABLE, details });
  });
}

/** Why a replica that is not serving as leader refuses a call, and where to go instead. */
function notLeading(replica: ReplicaStatus): string {
  if (replica.role === "leader") return "this orchestrator replica was just elected and is loading the fleet; try again in a moment";
  return `this orchestrator replica is ${replica.role}, not the leader; ${replica.describeLeader()}`;
}

/** What a standby's catalog reads need: the database, and the bound every admin call has. */
export interface StandbyReads {
  db: Db;
  logger: Logger;
  /** ADMIN_CALL_TIMEOUT_MS: a standby's reads wait on the database as the leader's writes do. */
  callTimeoutMs: number;
}

/**
 * AdminService on a replica that does not lead. The catalog reads
 * (ListStreams, GetStream) need only the tables, so they answer from a
 * snapshot of them with the leader's own handlers and encoding (as of the
 * leader's last commit; a standby's connections carry term 0, so it could not
 * write anyway). GetStatus tells this replica's role, the term and the leader.
 * Everything else needs the leader's memory (the live fleet: ListInstances,
 * GetInstance, WatchEvents) or writes, and is UNAVAILABLE naming the leader,
 * for the caller to ask there.
 */
export function standbyAdmin(replica: ReplicaStatus, about: About, reads: StandbyReads): AdminServiceServer {
  const refusal = () => ({ code: status.UNAVAILABLE, details: notLeading(replica) });
  const handlers: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(AdminServiceService)) {
    handlers[name] = method.responseStream
      ? (call: ServerWritableStream<unknown, unknown>) => call.emit("error", refusal())
      : (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => callback(refusal());
  }
  handlers.getStatus = (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
    callback(null, statusToMessage(fleetStatus(undefined, about, replica)));
  Object.assign(handlers, catalogReadHandlers(reads.db, (streamId) => loadCatalogSnapshot(reads.db, streamId), reads.logger));
  return withCallDeadlines(AdminServiceService, handlers as unknown as AdminServiceServer, reads.callTimeoutMs, reads.logger);
}
