import type { PlanInput } from "./types.js";

/**
 * Rejects malformed input up front; a silently wrong plan would move live streams.
 * Owner indices are range-checked later, in the pass that already reads them.
 */
export function assertPlanInput(input: PlanInput): void {
  const { capacity, eligible, live, owner, maxLiveMoves } = input;
  if (!(capacity instanceof Uint32Array)) throw new TypeError("capacity must be a Uint32Array");
  if (!(eligible instanceof Uint8Array)) throw new TypeError("eligible must be a Uint8Array");
  if (!(live instanceof Uint8Array)) throw new TypeError("live must be a Uint8Array");
  if (!(owner instanceof Int32Array)) throw new TypeError("owner must be an Int32Array");
  const m = capacity.length;
  if (eligible.length !== m || live.length !== m) {
    throw new RangeError(
      `instance arrays disagree in length: capacity ${m}, eligible ${eligible.length}, live ${live.length}`,
    );
  }
  if (typeof maxLiveMoves !== "number" || Number.isNaN(maxLiveMoves) || maxLiveMoves < 0) {
    throw new RangeError(`maxLiveMoves must be a non-negative number or Infinity, got ${String(maxLiveMoves)}`);
  }
}

export function badOwner(stream: number, owner: number, instances: number): RangeError {
  return new RangeError(`owner[${stream}] = ${owner} is outside [-1, ${instances})`);
}
