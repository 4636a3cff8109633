import { status, type ServerWritableStream } from "@grpc/grpc-js";
import type { Coordinator } from "../coordinator/coordinator.js";
import type { LoggedEvent } from "../coordinator/event-log.js";
import type { WatchEventsRequest, WatchEventsResponse } from "../gen/orchestrator/v1/admin.js";
import { eventFromLog } from "./admin-mappers.js";
import { FieldError } from "./validation.js";

const MAX_HISTORY = 1_000;

function eventFilter(request: WatchEventsRequest): (e: LoggedEvent) => boolean {
  if (request.history > MAX_HISTORY) throw new FieldError("history", `must be at most ${MAX_HISTORY} (got ${request.history})`);
  request.kinds.forEach((k, i) => {
    if (!k || k.length > 64) throw new FieldError(`kinds[${i}]`, "must be 1 to 64 characters");
  });
  const kinds = new Set(request.kinds);
  return (e) =>
    (!request.instanceId || e.instanceId === request.instanceId) &&
    (!request.streamId || e.streamId === request.streamId) &&
    (kinds.size === 0 || kinds.has(e.kind));
}

/**
 * WatchEvents: replays recent history, then follows live until the caller
 * cancels. Subscribing before replaying means nothing falls in between.
 */
export function watchEvents(coordinator: Coordinator) {
  return (call: ServerWritableStream<WatchEventsRequest, WatchEventsResponse>): void => {
    let filter: (e: LoggedEvent) => boolean;
    try {
      filter = eventFilter(call.request);
    } catch (error) {
      call.emit("error", { code: status.INVALID_ARGUMENT, details: (error as Error).message });
      return;
    }
    let replayedUpTo = 0;
    const send = (e: LoggedEvent) => {
      if (e.seq > replayedUpTo && filter(e)) call.write({ event: eventFromLog(e) });
    };
    coordinator.events.on("event", send);
    const stop = () => coordinator.events.off("event", send);
    call.on("cancelled", stop);
    call.on("close", stop);
    call.on("error", stop);
    for (const e of coordinator.events.recent(call.request.history, filter)) {
      call.write({ event: eventFromLog(e) });
      replayedUpTo = e.seq;
    }
  };
}
