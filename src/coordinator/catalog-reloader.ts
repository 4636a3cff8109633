import { sameStream } from "../domain/same-stream.js";
import type { Logger } from "../log/logger.js";
import type { Clock } from "./clock.js";
import type { Fleet } from "./fleet.js";
import type { CoordinatorObserver } from "./observer.js";
import { AssignmentChanges } from "./assignment-changes.js";
import type { CoordinatorStore } from "./store-port.js";
import type { Audit } from "./types.js";

/** What the reloader needs from the coordinator that owns it. */
export interface CatalogReloaderDeps {
  store: CoordinatorStore;
  fleet: Fleet;
  clock: Clock;
  observer: CoordinatorObserver;
  logger: Logger;
  audit: Audit;
  requestRound(): void;
}

/**
 * Brings the in-memory catalog in line with rows the admin API or the table
 * sync changed. Owners of removed streams stop them at once; owners of
 * streams whose URL or metadata changed restart them (same epoch). Reloads
 * run one at a time, so an older read never overwrites a newer one, and the
 * ids of a failed reload are read again on the next `retryFailed()`.
 */
export class CatalogReloader {
  private queue: Promise<void> = Promise.resolve();
  private readonly failed = new Set<string>();

  constructor(private readonly deps: CatalogReloaderDeps) {}

  /** Reloads `ids`; resolves when done (a failure is kept for a retry, not thrown). */
  reload(ids: string[]): Promise<void> {
    // A write that changed nothing (enabling an enabled stream) is no change: no event, no round.
    if (!ids.length) return this.queue;
    const next = this.queue.then(() =>
      this.apply(ids).catch((error: unknown) => {
        // The catalog write itself committed; only our copy is behind. Keep the ids and
        // read them again later, so nothing stays stale until a restart.
        for (const id of ids) this.failed.add(id);
        this.deps.observer.databaseError("catalog");
        this.deps.logger.warn({ err: error, streams: ids.length }, "catalog reload failed; will retry");
      }),
    );
    this.queue = next;
    return next;
  }

  /** Starts reloading whatever failed before (called from the coordinator's tick). */
  retryFailed(): void {
    if (!this.failed.size) return;
    const ids = [...this.failed];
    this.failed.clear();
    void this.reload(ids);
  }

  private async apply(ids: string[]): Promise<void> {
    const { fleet } = this.deps;
    const rows = new Map((await this.deps.store.loadStreams(ids)).map((s) => [s.id, s]));
    const at = new Date(this.deps.clock.wallNow());
    const changes = new AssignmentChanges();
    let removed = 0;
    for (const id of ids) {
      const row = rows.get(id);
      const before = fleet.catalog.get(id);
      if (row) fleet.catalog.set(id, row);
      else fleet.catalog.delete(id);
      if (row?.enabled) {
        // Same owner, same epoch, new URL or metadata: the owner restarts it (remove and add in one message).
        const ownership = fleet.owners.get(id);
        if (ownership && !ownership.revoking && before && !sameStream(before, row)) {
          const change = changes.for(ownership.instanceId);
          change.add.push({ ...row, epoch: ownership.epoch });
          change.remove.push(id);
        }
        continue;
      }
      const ownership = fleet.clearOwner(id);
      if (!ownership) continue;
      // Nobody else will be given it, so there is no acknowledgement to wait for; the
      // catalog write already removed its assignment row.
      changes.for(ownership.instanceId).remove.push(id);
      removed++;
      this.deps.audit({ kind: "stream.removed", instanceId: ownership.instanceId, streamId: id, detail: { reason: row ? "disabled" : "deleted" }, at });
    }
    // No revocations: these streams go to nobody else, so their acknowledgement frees nothing.
    for (const [instanceId, change] of changes.entries()) fleet.instance(instanceId)?.outbox?.assign({ full: false, ...change }, []);
    this.deps.audit({ kind: "catalog.changed", detail: { streams: ids.length, removed }, at });
    this.deps.requestRound();
  }
}
