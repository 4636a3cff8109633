import { formatChurnEvent, type ChurnEvent } from "./churn-spec.js";
import type { FailoverTracker } from "./failover-tracker.js";
import type { SeededRandom } from "./random.js";
import type { VirtualFleet } from "./virtual-fleet.js";
import type { VirtualInstance } from "./virtual-instance.js";

/** What the runner acts on. */
export interface ChurnRunnerDeps {
  fleet: VirtualFleet;
  tracker: FailoverTracker;
  random: SeededRandom;
  /** One line per event as it fires, for the live view. */
  onNote?: (text: string) => void;
}

function listIds(instances: readonly VirtualInstance[]): string {
  const shown = instances.slice(0, 4).map((i) => i.id);
  const more = instances.length - shown.length;
  return more > 0 ? `${shown.join(", ")} +${more} more` : shown.join(", ");
}

/**
 * Fires the churn schedule: each event at its time, on instances picked at random among the
 * `up` ones (a seeded choice, so `--seed` replays the same victims). Every victim's fault is
 * recorded with the failover tracker before it strikes.
 */
export class ChurnRunner {
  readonly #events: readonly ChurnEvent[];
  readonly #deps: ChurnRunnerDeps;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(events: readonly ChurnEvent[], deps: ChurnRunnerDeps) {
    this.#events = events;
    this.#deps = deps;
  }

  /** Schedules every event relative to `origin` (a `performance.now()` time). */
  start(origin: number): void {
    for (const event of this.#events) {
      const delay = Math.max(0, origin + event.atMs - performance.now());
      this.#timers.push(setTimeout(() => this.fire(event), delay));
    }
  }

  /** Cancels events that have not fired yet. */
  cancel(): void {
    for (const timer of this.#timers.splice(0)) clearTimeout(timer);
  }

  /** Applies one event now; returns the instances it hit (or added). */
  fire(event: ChurnEvent): VirtualInstance[] {
    const { fleet, tracker, random } = this.#deps;
    const label = formatChurnEvent(event);
    if (event.action === "join") {
      const added = fleet.add(event.count);
      for (const instance of added) tracker.struck("join", instance.id);
      this.#deps.onNote?.(`${label}: ${listIds(added)} joined`);
      return added;
    }
    const victims = fleet.pickUp(event.count, random);
    let orphans = 0;
    for (const victim of victims) orphans += tracker.struck(event.action, victim.id).orphans;
    for (const victim of victims) {
      switch (event.action) {
        case "kill":
          victim.kill();
          break;
        case "partition":
          victim.partition(event.lengthMs ?? 0);
          break;
        case "restart":
          victim.restart(event.lengthMs ?? 0);
          break;
        case "leave":
          void victim.leave();
          break;
      }
    }
    const short = victims.length < event.count ? ` (only ${victims.length} up)` : "";
    this.#deps.onNote?.(`${label}: ${listIds(victims)}${short}, ${orphans} streams orphaned`);
    return victims;
  }
}
