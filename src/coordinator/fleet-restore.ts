import { monotonicOf, type Clock } from "./clock.js";
import type { CoordinatorOptions } from "./coordinator-options.js";
import type { Fleet } from "./fleet.js";
import { Instance } from "./instance.js";
import type { CoordinatorStore, FleetSnapshot } from "./store-port.js";

/**
 * Fills an empty fleet with what the last process (or the last leader) left
 * in the store. An instance that owned streams keeps them, disconnected, until
 * the end of any lease it may still hold: one lease from now, or the longer
 * lease a restarting orchestrator promised, and `takeoverMs` on top when a
 * previous leader may have gone on renewing leases after this one was elected;
 * one that had left to return, until its return window if that ends later.
 */
export async function restoreFleet(store: CoordinatorStore, fleet: Fleet, clock: Clock, options: CoordinatorOptions, takeoverMs: number): Promise<FleetSnapshot> {
  const snapshot = await store.loadFleet();
  const now = clock.now();
  for (const stream of snapshot.streams) fleet.catalog.set(stream.id, stream);
  for (const [streamId, ownership] of snapshot.assignments) fleet.setOwner(streamId, ownership);
  for (const record of snapshot.instances) {
    const lastSeen = record.lastSeenAt ? monotonicOf(clock, record.lastSeenAt.getTime()) : now;
    const owns = fleet.ownedBy(record.id).size > 0;
    // Never longer than a leave could ask for now: a wall clock stepped back must not stretch the wait.
    const returnUntil = record.returnBy ? Math.min(monotonicOf(clock, record.returnBy.getTime()), now + (options.maxReturnWithinMs ?? 120_000)) : undefined;
    fleet.add(Instance.restore(record, owns, now + takeoverMs, lastSeen, options, snapshot.restartLeaseMs, returnUntil));
  }
  return snapshot;
}
