import { status, type ServerWritableStream } from "@grpc/grpc-js";
import type { EventLog, LoggedEvent } from "../coordinator/event-log.js";
import type { WatchEventsRequest, WatchEventsResponse } from "../gen/orchestrator/v1/admin.js";
import { eventFromLog } from "./admin-mappers.js";
import { FieldError } from "../domain/field-error.js";

const MAX_HISTORY = 1_000;

/**
 * How far a watcher may fall behind. gRPC flow control stops sending to a
 * reader that does not keep up, and everything after that would pile up in
 * this process without bound. A round can emit thousands of events at once,
 * so a burst alone must not cut anyone off: a watcher is ended when it has
 * not caught up for `maxBehindMs`, or at once when `maxBuffered` events wait.
 */
export interface WatchLimits {
  maxBehindMs: number;
  maxBuffered: number;
  /** Watchers at once (MAX_WATCHERS): one more gets RESOURCE_EXHAUSTED. */
  maxWatchers: number;
}

export const WATCH_LIMITS: WatchLimits = { maxBehindMs: 30_000, maxBuffered: 100_000, maxWatchers: 64 };
// Once cut off, events already buffered stay until the client reads them or the
// connection closes (the status follows them); only the growth is stopped.

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
 * cancels. Subscribing before replaying means nothing falls in between. A
 * watcher that stays behind (see WatchLimits) is ended with
 * RESOURCE_EXHAUSTED, like a Kubernetes watch that is too slow, and can
 * watch again with `history` to catch up.
 */
export function watchEvents(events: EventLog, limits: WatchLimits = WATCH_LIMITS) {
  let watching = 0;
  return (call: ServerWritableStream<WatchEventsRequest, WatchEventsResponse>): void => {
    if (watching >= limits.maxWatchers) {
      call.emit("error", { code: status.RESOURCE_EXHAUSTED, details: `MAX_WATCHERS=${limits.maxWatchers} watchers are open; close one or raise MAX_WATCHERS` });
      return;
    }
    let filter: (e: LoggedEvent) => boolean;
    try {
      filter = eventFilter(call.request);
    } catch (error) {
      call.emit("error", { code: status.INVALID_ARGUMENT, details: (error as Error).message });
      return;
    }
    if (events.endedWith !== undefined) {
      call.emit("error", { code: status.UNAVAILABLE, details: events.endedWith });
      return;
    }
    let replayedUpTo = 0;
    // When a write first found the buffer full since the watcher last caught up.
    let behindSince: number | undefined;
    watching++;
    let stopped = false;
    const stop = () => {
      events.off("event", send);
      events.off("end", ended);
      if (!stopped) watching--;
      stopped = true;
    };
    // UNAVAILABLE, which a watcher retries (elsewhere: on another replica, or here after a restart).
    const ended = (reason: string) => {
      stop();
      call.emit("error", { code: status.UNAVAILABLE, details: reason });
    };
    function send(e: LoggedEvent): void {
      if (e.seq <= replayedUpTo || !filter(e)) return;
      // Back under the high-water mark: it keeps up, even if the buffer never empties.
      if (call.writableLength < call.writableHighWaterMark) behindSince = undefined;
      const behindMs = behindSince === undefined ? 0 : Math.round(performance.now() - behindSince);
      if (call.writableLength >= limits.maxBuffered || behindMs > limits.maxBehindMs) {
        stop();
        call.emit("error", {
          code: status.RESOURCE_EXHAUSTED,
          details: `watcher too slow: ${call.writableLength} events waiting, behind for ${behindMs} ms; watch again with history to catch up`,
        });
        return;
      }
      if (!call.write({ event: eventFromLog(e) })) behindSince ??= performance.now();
    }
    call.on("drain", () => (behindSince = undefined));
    events.on("event", send);
    events.on("end", ended);
    call.on("cancelled", stop);
    call.on("close", stop);
    call.on("error", stop);
    for (const e of events.recent(call.request.history, filter)) {
      call.write({ event: eventFromLog(e) });
      replayedUpTo = e.seq;
    }
  };
}
