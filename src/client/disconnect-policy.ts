import { status } from "@grpc/grpc-js";

/** How a session ended, as far as deciding what to do next goes. */
export interface SessionOutcome {
  code: number;
  details: string;
  /** The server asked us to come back after this long. */
  goAwayAfterMs?: number | undefined;
}

/**
 * What the connect loop does after a session:
 * - `go-away`: reconnect after the delay the server asked for;
 * - `superseded`: another process holds this instance id, so do not fight over it;
 * - `rejected`: the hello was invalid, a configuration error that retrying cannot fix;
 * - `retry`: anything else (unreachable, deadline, lease expired, server restart): reconnect with backoff.
 */
export type DisconnectAction = "go-away" | "superseded" | "rejected" | "retry";

/** Maps the end of a session to the next step of the connect loop. */
export function classifyDisconnect(outcome: SessionOutcome): DisconnectAction {
  if (outcome.goAwayAfterMs !== undefined) return "go-away";
  if (outcome.code === status.ABORTED && /superseded/i.test(outcome.details)) return "superseded";
  if (outcome.code === status.INVALID_ARGUMENT) return "rejected";
  return "retry";
}
