/**
 * A small seeded random source, so a scenario that showed something odd can be replayed
 * with the same victims (`--seed`). Not for anything security-related.
 */
export class SeededRandom {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A number in [0, 1), like `Math.random` (mulberry32). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Up to `count` distinct items of `items`, chosen uniformly (partial Fisher-Yates). */
  pick<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const n = Math.min(count, pool.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.next() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
    }
    return pool.slice(0, n);
  }
}

/** A seed for when the user gave none; printed in the report so the run can be repeated. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 1_000_000);
}
