import type { ChurnAction } from "./churn-spec.js";
import type { OwnershipLedger } from "./ledger.js";

/** One fault on one instance, and how its streams fared. */
export interface FaultRecord {
  action: ChurnAction;
  instanceId: string;
  /** When the fault struck, in ms from the start of the scenario. */
  atMs: number;
  /** Streams the instance ran when it struck (for a join: 0). */
  orphans: number;
  /** Orphans back on another `up` instance. */
  moved: number;
  /** Orphans back because the instance itself came back `up` with them. */
  kept: number;
  /** Failover duration: fault until every orphan runs on an `up` instance again. */
  failoverMs?: number;
  /** For a join: how long until the new instance was `up`. */
  upAfterMs?: number;
}

/** Whether a fault can orphan streams (a join cannot). */
export function isFailure(action: ChurnAction): boolean {
  return action !== "join";
}

interface Pending {
  record: FaultRecord;
  waiting: Set<string>;
  startedAt: number;
}

/**
 * Measures failovers from the instances' side: when a fault strikes, the streams the victim
 * ran are its orphans, and the failover is over once every one of them runs on an `up`
 * instance again, whoever that is. Driven by the ledger's "served" notifications.
 */
export class FailoverTracker {
  readonly records: FaultRecord[] = [];
  readonly #ledger: OwnershipLedger;
  readonly #clock: () => number;
  readonly #origin: number;
  /** Pending failovers by orphan stream id. */
  readonly #byStream = new Map<string, Set<Pending>>();
  readonly #joins = new Map<string, { record: FaultRecord; startedAt: number }>();
  #pending = 0;

  /** @param origin the ledger-clock time the scenario started, so `atMs` reads as scenario time. */
  constructor(ledger: OwnershipLedger, origin: number, clock: () => number = () => performance.now()) {
    this.#ledger = ledger;
    this.#origin = origin;
    this.#clock = clock;
    ledger.onServed((streamId, instanceId, at) => this.#served(streamId, instanceId, at));
  }

  /** Failovers not over yet. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Records a fault about to strike `instanceId`; call it before the fault changes anything,
   * so the orphans are what the instance ran at that moment.
   */
  struck(action: ChurnAction, instanceId: string): FaultRecord {
    const startedAt = this.#clock();
    const orphans = isFailure(action) ? this.#ledger.runningOn(instanceId) : [];
    const record: FaultRecord = { action, instanceId, atMs: startedAt - this.#origin, orphans: orphans.length, moved: 0, kept: 0 };
    this.records.push(record);
    if (!isFailure(action)) {
      this.#joins.set(instanceId, { record, startedAt });
      return record;
    }
    if (orphans.length === 0) return record;
    const pending: Pending = { record, waiting: new Set(orphans), startedAt };
    this.#pending += 1;
    for (const streamId of orphans) {
      let set = this.#byStream.get(streamId);
      if (!set) this.#byStream.set(streamId, (set = new Set()));
      set.add(pending);
    }
    return record;
  }

  /** A joined instance became `up`. */
  joinedUp(instanceId: string): void {
    const join = this.#joins.get(instanceId);
    if (!join) return;
    this.#joins.delete(instanceId);
    join.record.upAfterMs = this.#clock() - join.startedAt;
  }

  #served(streamId: string, instanceId: string, at: number): void {
    const waiting = this.#byStream.get(streamId);
    if (!waiting) return;
    this.#byStream.delete(streamId);
    for (const pending of waiting) {
      pending.waiting.delete(streamId);
      if (instanceId === pending.record.instanceId) pending.record.kept += 1;
      else pending.record.moved += 1;
      if (pending.waiting.size === 0) {
        pending.record.failoverMs = at - pending.startedAt;
        this.#pending -= 1;
      }
    }
  }
}
