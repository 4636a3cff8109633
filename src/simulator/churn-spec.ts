/**
 * The `--churn` grammar: a comma-separated list of fault events,
 *
 *     ACTION:COUNT@TIME[/LENGTH]      e.g.  kill:5@10s,partition:3@20s/8s,join:5@40s
 *
 * ACTION is one of {@link CHURN_ACTIONS}, COUNT how many instances it hits, TIME when it
 * happens (counted from the start of the scenario), and LENGTH how long a partition lasts
 * or a restarted instance stays down. Durations are a number with a unit: `500ms`, `10s`,
 * `1.5s`, `2m`. Pure functions only, so every rule is unit-tested without a server.
 */

/** What a churn event does to each instance it hits. */
export type ChurnAction = "kill" | "partition" | "restart" | "leave" | "join";

/** Every action, in the order the help text lists them. */
export const CHURN_ACTIONS: readonly ChurnAction[] = ["kill", "partition", "restart", "leave", "join"];

/** LENGTH when the spec leaves it out; only these actions take one. */
export const DEFAULT_LENGTH_MS: Readonly<Partial<Record<ChurnAction, number>>> = { partition: 5_000, restart: 2_000 };

/** One scheduled fault. */
export interface ChurnEvent {
  action: ChurnAction;
  /** Instances it hits (for `join`: instances it adds). */
  count: number;
  /** When it happens, in ms from the start of the scenario. */
  atMs: number;
  /** Partition: how long it lasts; restart: how long the instance stays down. */
  lengthMs?: number;
}

/** A spec that does not follow the grammar; the message names the event and the rule. */
export class ChurnSpecError extends Error {
  override name = "ChurnSpecError";
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000 };

/**
 * Parses a duration such as `500ms`, `10s`, `1.5s` or `2m` into whole milliseconds.
 * @param what names the value in the error, e.g. `time` or `--duration`.
 * @throws ChurnSpecError when the text is not a non-negative number with a unit.
 */
export function parseDuration(text: string, what = "duration"): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!match) {
    const hint = /^\d+(\.\d+)?$/.test(text.trim()) ? ` needs a unit: ms, s or m (e.g. ${text.trim()}s)` : " is not a duration like 500ms, 10s, 1.5s or 2m";
    throw new ChurnSpecError(`${what} "${text}"${hint}`);
  }
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? "s"] ?? 1_000));
}

/** Formats milliseconds the way the grammar writes them: `500ms`, `10s`, `1.5s`, `2m`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1_000 && ms % 100 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** The canonical text of an event, e.g. `partition:3@20s/8s`. */
export function formatChurnEvent(event: ChurnEvent): string {
  const length = event.lengthMs === undefined ? "" : `/${formatDuration(event.lengthMs)}`;
  return `${event.action}:${event.count}@${formatDuration(event.atMs)}${length}`;
}

function isAction(text: string): text is ChurnAction {
  return (CHURN_ACTIONS as readonly string[]).includes(text);
}

function parseEvent(text: string): ChurnEvent {
  const match = /^([^:@/]*):([^@/]*)(?:@([^/]*))?(?:\/(.*))?$/.exec(text);
  if (!match) {
    if (!text.includes(":")) throw new ChurnSpecError(`expected ACTION:COUNT@TIME, e.g. kill:5@10s`);
    throw new ChurnSpecError(`expected ACTION:COUNT@TIME[/LENGTH], e.g. partition:3@20s/8s`);
  }
  const [, action = "", countText = "", timeText, lengthText] = match;
  if (!isAction(action)) {
    throw new ChurnSpecError(`unknown action "${action}"; expected one of ${CHURN_ACTIONS.join(", ")}`);
  }
  if (!/^\d+$/.test(countText) || Number(countText) < 1) {
    throw new ChurnSpecError(`COUNT must be a whole number of at least 1, got "${countText}"`);
  }
  if (timeText === undefined) throw new ChurnSpecError(`missing @TIME (when it happens, e.g. @10s)`);
  const event: ChurnEvent = { action, count: Number(countText), atMs: parseDuration(timeText, "TIME") };
  const defaultLength = DEFAULT_LENGTH_MS[action];
  if (lengthText !== undefined) {
    if (defaultLength === undefined) {
      throw new ChurnSpecError(`/LENGTH applies only to partition and restart, not to ${action}`);
    }
    event.lengthMs = parseDuration(lengthText, "LENGTH");
    if (event.lengthMs <= 0) throw new ChurnSpecError(`LENGTH must be longer than 0, got "${lengthText}"`);
  } else if (defaultLength !== undefined) {
    event.lengthMs = defaultLength;
  }
  return event;
}

/**
 * Parses a whole `--churn` spec. Events come back sorted by time; events at the same time
 * keep their written order. An empty or blank spec means no churn.
 * @throws ChurnSpecError naming the event (1-based) and what is wrong with it.
 */
export function parseChurnSpec(spec: string): ChurnEvent[] {
  if (spec.trim() === "") return [];
  const parts = spec.split(",").map((p) => p.trim());
  const events = parts.map((part, i) => {
    if (part === "") throw new ChurnSpecError(`event ${i + 1} is empty (a stray comma?)`);
    try {
      return parseEvent(part);
    } catch (error) {
      if (!(error instanceof ChurnSpecError)) throw error;
      throw new ChurnSpecError(`event ${i + 1} "${part}": ${error.message}`);
    }
  });
  // Array.prototype.sort is stable, which keeps same-time events in written order.
  return events.sort((a, b) => a.atMs - b.atMs);
}

/**
 * Checks a parsed schedule against the scenario length.
 * @throws ChurnSpecError for an event that would fire at or after the end.
 */
export function checkScheduleFits(events: readonly ChurnEvent[], durationMs: number): void {
  const late = events.find((e) => e.atMs >= durationMs);
  if (late) {
    throw new ChurnSpecError(`${formatChurnEvent(late)} happens at or after the end of the scenario (--duration ${formatDuration(durationMs)})`);
  }
}
