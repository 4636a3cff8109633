import { FleetIndex, type FleetIndexView } from "./fleet-index.js";
import type { Instance, InstanceView } from "./instance.js";
import type { MoveReason } from "./round-planner.js";
import type { SessionOutbox } from "./session-outbox.js";
import type { CatalogStream, Ownership } from "./types.js";

/** What readers outside the coordinator (admin API, HTTP, metrics) may see of the fleet: nothing here changes it. */
export interface FleetView {
  instance(id: string): InstanceView | undefined;
  instances(): IterableIterator<InstanceView>;
  /** Every known instance, ordered by id. */
  instancesById(): InstanceView[];
  readonly catalog: ReadonlyMap<string, CatalogStream>;
  /** Owner of each owned stream. */
  readonly owners: ReadonlyMap<string, Ownership>;
  /** Stream ids owned by an instance (revoking ones included). */
  ownedBy(instanceId: string): ReadonlySet<string>;
}

/** Orders instances by id (the order the API lists and the scheduler indexes them in). */
export function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Why a stream being revoked leaves its owner, kept until it is granted again. */
export interface Handoff {
  from: string;
  reason: MoveReason;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * The in-memory mirror of instances, catalog and ownership. Ownership here
 * is only ever changed after the database said yes (grants) or for streams
 * nobody may run any more (releases), so it never runs ahead of what is safe.
 * Only the coordinator's own files hold a Fleet; everyone else gets FleetView.
 */
export class Fleet implements FleetView {
  private readonly byIdMap = new Map<string, Instance>();
  private readonly slots: FleetIndex;
  readonly catalog: Map<string, CatalogStream>;
  private readonly ownership = new Map<string, Ownership>();
  /** Stream ids per owner, kept in step with `ownership`. */
  private readonly byInstance = new Map<string, Set<string>>();
  /** Streams revoked from a live owner: who gave them up and why, for the grant that follows. */
  private readonly handoffs = new Map<string, Handoff>();

  /** @param initialSlots see FleetIndex */
  constructor(initialSlots?: number) {
    this.slots = new FleetIndex(initialSlots);
    this.catalog = new IndexedCatalog(this.slots, this.handoffs);
  }

  /** Integer slots and typed arrays for scheduling rounds, kept in step with the catalog and owners. */
  get index(): FleetIndexView {
    return this.slots;
  }

  get owners(): ReadonlyMap<string, Ownership> {
    return this.ownership;
  }

  instance(id: string): Instance | undefined {
    return this.byIdMap.get(id);
  }

  instances(): IterableIterator<Instance> {
    return this.byIdMap.values();
  }

  add(instance: Instance): void {
    this.byIdMap.set(instance.id, instance);
  }

  /** Detaches every open session (the process stops serving); the caller tells each why. Detached first: telling a session anything may end it. */
  detachAll(): SessionOutbox[] {
    const outboxes: SessionOutbox[] = [];
    for (const instance of this.byIdMap.values()) {
      const outbox = instance.detach();
      if (outbox) outboxes.push(outbox);
    }
    return outboxes;
  }

  instancesById(): Instance[] {
    return [...this.byIdMap.values()].sort(byId);
  }

  setOwner(streamId: string, ownership: Ownership): void {
    this.clearOwner(streamId);
    this.ownership.set(streamId, ownership);
    this.slots.ownerSet(streamId, ownership.instanceId, ownership.revoking, ownership.epoch);
    let set = this.byInstance.get(ownership.instanceId);
    if (!set) this.byInstance.set(ownership.instanceId, (set = new Set()));
    set.add(streamId);
  }

  /** The stream has no owner any more (released, disabled, deleted): it was no move, so no handoff either. */
  clearOwner(streamId: string): Ownership | undefined {
    this.handoffs.delete(streamId);
    return this.dropOwner(streamId);
  }

  /** Its owner acknowledged a revocation: free, and the grant that follows continues the move. */
  handOver(streamId: string): void {
    this.dropOwner(streamId);
  }

  private dropOwner(streamId: string): Ownership | undefined {
    const previous = this.ownership.get(streamId);
    if (!previous) return undefined;
    this.ownership.delete(streamId);
    this.slots.ownerClear(streamId);
    this.byInstance.get(previous.instanceId)?.delete(streamId);
    return previous;
  }

  /**
   * Its owner has been told to stop it: nobody else may get it until the owner
   * acknowledges. The reason is kept for the grant that follows.
   */
  markRevoking(streamId: string, reason: MoveReason): void {
    const ownership = this.ownership.get(streamId);
    if (!ownership || ownership.revoking) return;
    this.ownership.set(streamId, { ...ownership, revoking: true });
    this.slots.markRevoking(streamId);
    this.handoffs.set(streamId, { from: ownership.instanceId, reason });
  }

  /** Who gave a stream up and why, while it waits for its next owner. */
  handoffOf(streamId: string): Handoff | undefined {
    return this.handoffs.get(streamId);
  }

  ownedBy(instanceId: string): ReadonlySet<string> {
    return this.byInstance.get(instanceId) ?? NONE;
  }

  /** Owned streams that are being revoked. */
  revokingOf(instanceId: string): string[] {
    return [...this.ownedBy(instanceId)].filter((id) => this.ownership.get(id)?.revoking);
  }

  /** Streams an instance should be running now: owned and not being revoked, with their epochs, by id. */
  activeStreamsOf(instanceId: string): Array<{ stream: CatalogStream; epoch: number }> {
    const out: Array<{ stream: CatalogStream; epoch: number }> = [];
    for (const id of this.ownedBy(instanceId)) {
      const ownership = this.ownership.get(id);
      const stream = this.catalog.get(id);
      if (ownership && stream?.enabled && !ownership.revoking) out.push({ stream, epoch: ownership.epoch });
    }
    return out.sort((a, b) => byId(a.stream, b.stream));
  }
}

/** The catalog as a Map that keeps the fleet index in step with every change. */
class IndexedCatalog extends Map<string, CatalogStream> {
  constructor(
    private readonly index: FleetIndex,
    private readonly handoffs: Map<string, Handoff>,
  ) {
    super();
  }

  override set(id: string, stream: CatalogStream): this {
    super.set(id, stream);
    this.index.catalogSet(id, stream.enabled);
    // A disabled stream's next grant is not the continuation of an earlier move.
    if (!stream.enabled) this.handoffs.delete(id);
    return this;
  }

  override delete(id: string): boolean {
    const had = super.delete(id);
    if (had) this.index.catalogDelete(id);
    this.handoffs.delete(id);
    return had;
  }

  override clear(): void {
    super.clear();
    this.index.catalogClear();
    this.handoffs.clear();
  }
}
