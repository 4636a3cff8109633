import type { BackoffOptions } from "./types.js";

/** Backoff options with defaults applied. */
export interface ResolvedBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * Quick and short: an instance that lost its session still runs its streams, and keeps them
 * only if it is back within the orchestrator's reconnect grace (3 s by default) of the network
 * returning; a delay that grew to many seconds during a short outage would cost every one of
 * them. A second at most, with full jitter, spreads a whole fleet's retries without a herd.
 */
export const DEFAULT_BACKOFF: ResolvedBackoff = { initialMs: 100, maxMs: 1_000 };

// 2^52 already exceeds any sane maxMs; capping keeps the arithmetic finite forever.
const MAX_EXPONENT = 52;

/** Applies defaults and rejects values that would make the loop spin or never retry. */
export function resolveBackoff(options: BackoffOptions = {}): ResolvedBackoff {
  const initialMs = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const maxMs = options.maxMs ?? Math.max(DEFAULT_BACKOFF.maxMs, initialMs);
  if (!Number.isFinite(initialMs) || initialMs < 0) {
    throw new RangeError(`backoff.initialMs must be a finite number >= 0, got ${initialMs}`);
  }
  if (!Number.isFinite(maxMs) || maxMs < initialMs) {
    throw new RangeError(`backoff.maxMs must be a finite number >= initialMs (${initialMs}), got ${maxMs}`);
  }
  return { initialMs, maxMs };
}

/** The largest delay of retry number `attempt` (0-based): min(maxMs, initialMs * 2^attempt). */
export function backoffCeiling(attempt: number, options: ResolvedBackoff): number {
  if (options.initialMs === 0) return 0;
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT);
  return Math.min(options.maxMs, options.initialMs * 2 ** exponent);
}

/**
 * Full jitter (a uniformly random delay below the ceiling) spreads the reconnects of a whole
 * fleet after an orchestrator restart instead of having them arrive in synchronized waves.
 * `random` must return a number in [0, 1), like `Math.random`.
 */
export function fullJitterDelay(attempt: number, options: ResolvedBackoff, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}

/** Stateful backoff: each `next()` is one more failed attempt; `reset()` after a success. */
export class Backoff {
  readonly options: ResolvedBackoff;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.options = resolveBackoff(options);
    this.#random = random;
  }

  /** Failed attempts since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Delay before the next attempt; counts one more failure. */
  next(): number {
    const delay = fullJitterDelay(this.#attempt, this.options, this.#random);
    this.#attempt = Math.min(this.#attempt + 1, MAX_EXPONENT);
    return delay;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
