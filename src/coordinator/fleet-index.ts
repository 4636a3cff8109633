/**
 * What a scheduling round reads. The arrays are replaced when the index grows:
 * read them afresh for each round, and never across an await.
 */
export interface FleetIndexView {
  readonly enabled: Uint8Array;
  readonly owner: Int32Array;
  readonly revoking: Uint8Array;
  /** Per stream slot: the owner's grant epoch (larger: started more recently); 0 without an owner. */
  readonly epoch: Float64Array;
  readonly streamIds: ReadonlyArray<string | undefined>;
  readonly instanceIds: readonly string[];
  readonly streamSlotEnd: number;
  readonly instanceSlotCount: number;
  /** The instance's slot, given one on first use (instance slots are never freed). */
  instanceSlot(id: string): number;
  streamSlot(id: string): number | undefined;
  /** Slots of enabled streams without an owner. */
  unownedSlots(): number[];
}

/**
 * Integer slots for stream and instance ids, and per-stream typed arrays
 * (enabled, owner slot, revoking) kept in step with the fleet's Maps on every
 * change. A scheduling round then reads only typed arrays to build the
 * scheduler's input, instead of looking two string keys up per stream: at
 * 100k streams that was most of a round's planning time.
 *
 * A stream's slot lives while the stream is in the catalog or has an owner;
 * freed slots are reused, and the scheduler sees streams in slot order (which
 * is therefore no first-come order). Rounds scan up to the highest slot ever
 * used, which does not shrink after mass deletions. Instance slots are never
 * freed (instances are never forgotten either). Only Fleet changes it.
 */
export class FleetIndex implements FleetIndexView {
  /** Per stream slot: 1 when the stream is in the catalog and enabled. */
  enabled: Uint8Array;
  /** Per stream slot: the owner's instance slot, or -1. */
  owner: Int32Array;
  /** Per stream slot: 1 while its owner is told to stop it (see Ownership.revoking). */
  revoking: Uint8Array;
  /** Per stream slot: the owner's grant epoch, 0 without an owner (who to move first: the youngest). */
  epoch: Float64Array;
  /** Per stream slot: 1 while the stream is in the catalog (enabled or not). */
  private inCatalog: Uint8Array;
  /** Per stream slot: the stream id, or undefined for a free slot. */
  readonly streamIds: Array<string | undefined> = [];
  /** Per instance slot: the instance id. */
  readonly instanceIds: string[] = [];
  private readonly streamSlots = new Map<string, number>();
  private readonly instanceSlots = new Map<string, number>();
  private readonly free: number[] = [];

  /** @param initialSlots stream slots before the first growth (tests use tiny ones to exercise growing) */
  constructor(initialSlots = 1024) {
    const size = Math.max(1, initialSlots);
    this.enabled = new Uint8Array(size);
    this.owner = new Int32Array(size).fill(-1);
    this.revoking = new Uint8Array(size);
    this.epoch = new Float64Array(size);
    this.inCatalog = new Uint8Array(size);
  }

  /** One past the highest stream slot ever used: rounds scan [0, streamSlotEnd). */
  get streamSlotEnd(): number {
    return this.streamIds.length;
  }

  get instanceSlotCount(): number {
    return this.instanceIds.length;
  }

  instanceSlot(id: string): number {
    let slot = this.instanceSlots.get(id);
    if (slot === undefined) {
      slot = this.instanceIds.length;
      this.instanceIds.push(id);
      this.instanceSlots.set(id, slot);
    }
    return slot;
  }

  unownedSlots(): number[] {
    const slots: number[] = [];
    for (let slot = 0; slot < this.streamSlotEnd; slot++) if (this.enabled[slot] === 1 && this.owner[slot]! < 0) slots.push(slot);
    return slots;
  }

  streamSlot(id: string): number | undefined {
    return this.streamSlots.get(id);
  }

  catalogSet(id: string, enabled: boolean): void {
    const slot = this.internStream(id);
    this.inCatalog[slot] = 1;
    this.enabled[slot] = enabled ? 1 : 0;
  }

  catalogDelete(id: string): void {
    const slot = this.streamSlots.get(id);
    if (slot === undefined) return;
    this.inCatalog[slot] = 0;
    this.enabled[slot] = 0;
    this.release(slot);
  }

  catalogClear(): void {
    for (let slot = 0; slot < this.streamIds.length; slot++) if (this.inCatalog[slot]) this.catalogDelete(this.streamIds[slot]!);
  }

  ownerSet(streamId: string, instanceId: string, revoking: boolean, epoch: number): void {
    const slot = this.internStream(streamId);
    this.owner[slot] = this.instanceSlot(instanceId);
    this.revoking[slot] = revoking ? 1 : 0;
    this.epoch[slot] = epoch;
  }

  ownerClear(streamId: string): void {
    const slot = this.streamSlots.get(streamId);
    if (slot === undefined) return;
    this.owner[slot] = -1;
    this.revoking[slot] = 0;
    this.epoch[slot] = 0;
    this.release(slot);
  }

  markRevoking(streamId: string): void {
    const slot = this.streamSlots.get(streamId);
    if (slot !== undefined) this.revoking[slot] = 1;
  }

  private internStream(id: string): number {
    let slot = this.streamSlots.get(id);
    if (slot !== undefined) return slot;
    slot = this.free.pop();
    if (slot === undefined) {
      slot = this.streamIds.length;
      this.streamIds.push(id);
      if (slot >= this.owner.length) this.grow();
    } else {
      this.streamIds[slot] = id;
    }
    this.streamSlots.set(id, slot);
    return slot;
  }

  /** Frees a slot nothing refers to any more: out of the catalog and without an owner. */
  private release(slot: number): void {
    if (this.inCatalog[slot] !== 0 || this.owner[slot] !== -1) return;
    this.streamSlots.delete(this.streamIds[slot]!);
    this.streamIds[slot] = undefined;
    this.free.push(slot);
  }

  private grow(): void {
    const size = this.owner.length * 2;
    const bytes = (from: Uint8Array) => {
      const to = new Uint8Array(size);
      to.set(from);
      return to;
    };
    const owner = new Int32Array(size).fill(-1);
    owner.set(this.owner);
    this.owner = owner;
    const epoch = new Float64Array(size);
    epoch.set(this.epoch);
    this.epoch = epoch;
    this.enabled = bytes(this.enabled);
    this.revoking = bytes(this.revoking);
    this.inCatalog = bytes(this.inCatalog);
  }
}
