import type { InstanceHello } from "../coordinator/types.js";
import { FieldError } from "../domain/field-error.js";
import { checkId } from "../domain/ids.js";
import { MAX_CAPACITY, MAX_ID_LENGTH } from "../domain/limits.js";
import { checkStringMap } from "../domain/string-map.js";
import type { Hello } from "../gen/orchestrator/v1/orchestrator.js";

/** At most this many held streams are accepted in one hello. */
export const MAX_HELD = 10_000;

/**
 * How many streams a hello may say it holds: its capacity and as much again
 * (at least 16 more), so that an instance restarted with a smaller capacity
 * still reports what it runs (the extra streams are then taken from it).
 */
export function maxHeld(capacity: number): number {
  return Math.min(MAX_HELD, capacity + Math.max(16, capacity));
}

/**
 * Validates a hello message and maps it to the coordinator's type.
 * @throws FieldError naming the first field that breaks a rule.
 */
export function decodeHello(hello: Hello): InstanceHello {
  const instanceId = checkId("hello.instance_id", hello.instanceId);
  if (hello.capacity > MAX_CAPACITY) throw new FieldError("hello.capacity", `must be at most ${MAX_CAPACITY} (got ${hello.capacity})`);
  if (hello.held.length > maxHeld(hello.capacity)) {
    throw new FieldError("hello.held", `must list at most ${maxHeld(hello.capacity)} streams with capacity ${hello.capacity} (the capacity and as much again, at least 16 more, at most ${MAX_HELD}; got ${hello.held.length})`);
  }
  const held = hello.held.map((h, i) => ({ streamId: checkId(`hello.held[${i}].stream_id`, h.streamId), epoch: h.epoch }));
  if (hello.version.length > MAX_ID_LENGTH) throw new FieldError("hello.version", `must be at most ${MAX_ID_LENGTH} characters`);
  return { instanceId, capacity: hello.capacity, held, labels: checkStringMap("hello.labels", hello.labels), version: hello.version };
}
