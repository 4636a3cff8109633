/**
 * Waiting for a condition instead of sleeping for a guessed time, for the tests
 * and the benchmarks alike (both are development tools, left out of the build
 * and of the image, so this lives here rather than in src/).
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Condition = () => boolean | Promise<boolean>;

/**
 * Checks `condition` at once and then every `everyMs` until it holds.
 * @returns true once it held, false when `timeoutMs` passed first.
 */
export async function pollUntil(condition: Condition, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/**
 * Like {@link pollUntil}, but a timeout fails with `what`, which may be a
 * function so that it describes the state at the timeout rather than at the
 * call (by default, the condition's own source).
 * @returns the milliseconds waited.
 */
export async function waitUntil(
  condition: Condition,
  timeoutMs = 2_000,
  what: string | (() => string) = String(condition),
  everyMs = 5,
): Promise<number> {
  const started = performance.now();
  if (await pollUntil(condition, timeoutMs, everyMs)) return performance.now() - started;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "function" ? what() : what}`);
}
