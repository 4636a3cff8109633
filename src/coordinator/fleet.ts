import { FleetIndex, type FleetIndexView } from "./fleet-index.js";
import type { CatalogStream, InstanceMetrics, Liveness, Ownership, SessionHandle } from "./types.js";

/** One instance as the coordinator tracks it in memory. */
export interface InstanceEntry {
  id: string;
  capacity: number;
  labels: Record<string, string>;
  version: string;
  draining: boolean;
  liveness: Liveness;
  /** For grace and startup: when the instance is declared dead (ms since epoch). */
  deadline: number;
  /** Last message from the instance (ms since epoch). */
  lastSeen: number;
  /** The last round left it out for being silent; its next message asks for a round. */
  heldOut: boolean;
  session?: SessionHandle;
  connectedAt: Date | null;
  registeredAt: Date | null;
  metrics: InstanceMetrics | null;
  runningStreams: number;
  /** Streams told to stop, by the seq of the assignment that said so, in the current session. */
  awaiting: Map<number, string[]>;
  /** Membership changed since the last persisted round. */
  dirty: boolean;
  /** lastSeen/metrics changed since the last flush. */
  seenDirty: boolean;
  /** When lastSeen/metrics were last written (ms since epoch); 0 for never. */
  seenPersistedAt: number;
}

/** Creates an entry for an instance seen for the first time. */
export function newInstanceEntry(id: string, now: number): InstanceEntry {
  return {
    id,
    capacity: 0,
    labels: {},
    version: "",
    draining: false,
    liveness: "dead",
    deadline: 0,
    lastSeen: now,
    heldOut: false,
    connectedAt: null,
    registeredAt: null,
    metrics: null,
    runningStreams: 0,
    awaiting: new Map(),
    dirty: true,
    seenDirty: false,
    seenPersistedAt: 0,
  };
}

/**
 * Keeps the latest heartbeat metrics by copying them into the entry's
 * existing object. Heartbeats arrive every second from every instance; a new
 * object each time would live just long enough to be promoted to the old
 * generation, and ten thousand of them a second make major collections
 * frequent. The copy's arrays and values are the entry's own.
 */
export function updateMetrics(entry: InstanceEntry, metrics: InstanceMetrics): void {
  const into = entry.metrics;
  if (!into) {
    entry.metrics = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]));
    return;
  }
  // for...in: no key arrays allocated on this per-heartbeat path.
  for (const key in into) if (!(key in metrics)) delete into[key];
  for (const key in metrics) {
    const value = metrics[key]!;
    const held = into[key];
    if (!Array.isArray(value)) into[key] = value;
    else if (Array.isArray(held) && held.length === value.length) for (let i = 0; i < value.length; i++) held[i] = value[i]!;
    else into[key] = [...value];
  }
}

/** Orders instances by id. */
export function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Connected but not heard from since `heardSince`: rounds leave it out (see
 * planRound), it keeps what it runs and gets nothing new.
 */
export function isSuspect(entry: InstanceEntry, heardSince: number): boolean {
  return entry.liveness === "connected" && entry.session !== undefined && entry.lastSeen < heardSince;
}

/** Live instances still run what they own; only connected ones can be told anything. */
export function isLive(entry: InstanceEntry): boolean {
  return entry.liveness === "connected" || entry.liveness === "grace" || entry.liveness === "startup";
}

/** How operators see an instance (the proto's InstanceState, without the prefix). */
export type InstanceStateName = "connected" | "disconnected" | "draining" | "dead" | "left";

/** The operator-facing state of an instance. */
export function instanceState(entry: InstanceEntry): InstanceStateName {
  switch (entry.liveness) {
    case "connected":
      return entry.draining ? "draining" : "connected";
    case "grace":
    case "startup":
      return "disconnected";
    case "left":
      return "left";
    default:
      return "dead";
  }
}

/**
 * The in-memory mirror of instances, catalog and ownership. Ownership here
 * is only ever changed after the database said yes (grants) or for streams
 * nobody may run any more (releases), so it never runs ahead of what is safe.
 */
export class Fleet {
  readonly instances = new Map<string, InstanceEntry>();
  private readonly slots: FleetIndex;
  readonly catalog: Map<string, CatalogStream>;
  private readonly ownership = new Map<string, Ownership>();
  /** Stream ids per owner, kept in step with `owners`. */
  private readonly byInstance = new Map<string, Set<string>>();

  /** @param initialSlots see FleetIndex */
  constructor(initialSlots?: number) {
    this.slots = new FleetIndex(initialSlots);
    this.catalog = new IndexedCatalog(this.slots);
  }

  /** Integer slots and typed arrays for scheduling rounds, kept in step with the catalog and `owners`. */
  get index(): FleetIndexView {
    return this.slots;
  }

  /** Owner of each owned stream; changed only through setOwner, clearOwner and markRevoking. */
  get owners(): ReadonlyMap<string, Ownership> {
    return this.ownership;
  }

  setOwner(streamId: string, ownership: Ownership): void {
    this.clearOwner(streamId);
    this.ownership.set(streamId, ownership);
    this.slots.ownerSet(streamId, ownership.instanceId, ownership.revoking);
    let set = this.byInstance.get(ownership.instanceId);
    if (!set) this.byInstance.set(ownership.instanceId, (set = new Set()));
    set.add(streamId);
  }

  clearOwner(streamId: string): Ownership | undefined {
    const previous = this.ownership.get(streamId);
    if (!previous) return undefined;
    this.ownership.delete(streamId);
    this.slots.ownerClear(streamId);
    this.byInstance.get(previous.instanceId)?.delete(streamId);
    return previous;
  }

  /** Its owner has been told to stop it: nobody else may get it until the owner acknowledges. */
  markRevoking(streamId: string): void {
    const ownership = this.ownership.get(streamId);
    if (!ownership || ownership.revoking) return;
    this.ownership.set(streamId, { ...ownership, revoking: true });
    this.slots.markRevoking(streamId);
  }

  /** Every known instance, ordered by id (the order the API lists and the scheduler indexes them in). */
  instancesById(): InstanceEntry[] {
    return [...this.instances.values()].sort(byId);
  }

  /** Stream ids owned by an instance (revoking ones included). */
  ownedBy(instanceId: string): ReadonlySet<string> {
    return this.byInstance.get(instanceId) ?? new Set();
  }

  /** Streams an instance should be running now: owned and not being revoked, with their epochs. */
  activeStreamsOf(instanceId: string): Array<{ stream: CatalogStream; epoch: number }> {
    const out: Array<{ stream: CatalogStream; epoch: number }> = [];
    for (const id of this.ownedBy(instanceId)) {
      const ownership = this.owners.get(id);
      const stream = this.catalog.get(id);
      if (ownership && stream?.enabled && !ownership.revoking) out.push({ stream, epoch: ownership.epoch });
    }
    return out.sort((a, b) => (a.stream.id < b.stream.id ? -1 : a.stream.id > b.stream.id ? 1 : 0));
  }
}

/** The catalog as a Map that keeps the fleet index in step with every change. */
class IndexedCatalog extends Map<string, CatalogStream> {
  constructor(private readonly index: FleetIndex) {
    super();
  }

  override set(id: string, stream: CatalogStream): this {
    super.set(id, stream);
    this.index.catalogSet(id, stream.enabled);
    return this;
  }

  override delete(id: string): boolean {
    const had = super.delete(id);
    if (had) this.index.catalogDelete(id);
    return had;
  }

  override clear(): void {
    super.clear();
    this.index.catalogClear();
  }
}
