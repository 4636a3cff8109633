import { plan } from "./plan.js";
import type { PlanStats } from "./types.js";

export interface InstanceSpec {
  readonly id: string;
  /** Most streams the instance may hold: a non-negative integer below 2^32. */
  readonly capacity: number;
  /** May receive streams (connected and not draining). */
  readonly eligible: boolean;
  /** Still runs what it owns (connected, or draining). */
  readonly live: boolean;
}

export interface PlanByIdsInput {
  readonly instances: readonly InstanceSpec[];
  /** Enabled stream ids; each must be unique. */
  readonly streams: readonly string[];
  /** Stream id to current owner id. Owners missing from `instances` count as not live. */
  readonly owners: ReadonlyMap<string, string>;
  /** Defaults to Infinity. */
  readonly maxLiveMoves?: number;
}

export interface Move {
  readonly streamId: string;
  readonly from: string | null;
  readonly to: string | null;
}

export interface PlanByIdsResult {
  /** Every stream id, in sorted order, to its new owner or null. */
  readonly target: Map<string, string | null>;
  /** Streams whose owner changes, sorted by stream id. */
  readonly moves: Move[];
  /** Instance id, in sorted order, to its quota. */
  readonly quota: Map<string, number>;
  readonly stats: PlanStats;
}

/**
 * String-keyed convenience over plan() for tests and small callers. Ids are sorted
 * (by UTF-16 code units) before interning, so the result does not depend on the
 * order of the input arrays. Allocates per stream: not meant for hot paths.
 */
export function planByIds(input: PlanByIdsInput): PlanByIdsResult {
  const instanceIds = input.instances.map((x) => x.id).sort();
  const instanceIndex = new Map<string, number>();
  instanceIds.forEach((id, i) => instanceIndex.set(id, i));
  if (instanceIndex.size !== instanceIds.length) throw new RangeError("duplicate instance id");

  const streamIds = [...input.streams].sort();
  if (new Set(streamIds).size !== streamIds.length) throw new RangeError("duplicate stream id");

  // Owners unknown to the caller's instance list become extra, dead, zero-capacity
  // instances so their streams are treated as orphans yet `from` still names them.
  const ghosts = [...new Set(streamIds.map((s) => input.owners.get(s)))]
    .filter((id): id is string => id !== undefined && !instanceIndex.has(id))
    .sort();
  const allIds = [...instanceIds, ...ghosts];
  ghosts.forEach((id, k) => instanceIndex.set(id, instanceIds.length + k));

  const m = allIds.length;
  const capacity = new Uint32Array(m);
  const eligible = new Uint8Array(m);
  const live = new Uint8Array(m);
  for (const spec of input.instances) {
    const i = instanceIndex.get(spec.id)!;
    if (!Number.isInteger(spec.capacity) || spec.capacity < 0 || spec.capacity > 0xffffffff) {
      throw new RangeError(`instance ${spec.id}: capacity must be an integer in [0, 2^32), got ${spec.capacity}`);
    }
    capacity[i] = spec.capacity;
    eligible[i] = spec.eligible ? 1 : 0;
    live[i] = spec.live ? 1 : 0;
  }

  const owner = new Int32Array(streamIds.length);
  streamIds.forEach((s, k) => {
    const id = input.owners.get(s);
    owner[k] = id === undefined ? -1 : instanceIndex.get(id)!;
  });

  const result = plan({ capacity, eligible, live, owner, maxLiveMoves: input.maxLiveMoves ?? Infinity });

  const name = (i: number): string | null => (i < 0 ? null : allIds[i]!);
  const target = new Map<string, string | null>();
  streamIds.forEach((s, k) => target.set(s, name(result.target[k]!)));
  const moves: Move[] = Array.from(result.changed, (k) => ({
    streamId: streamIds[k]!,
    from: name(owner[k]!),
    to: name(result.target[k]!),
  }));
  const quota = new Map<string, number>();
  instanceIds.forEach((id, i) => quota.set(id, result.quota[i]!));
  return { target, moves, quota, stats: result.stats };
}
