/**
 * Integer slots for stream and instance ids, and per-stream typed arrays
 * (enabled, owner slot, revoking) kept in step with the fleet's Maps on every
 * change. A scheduling round then reads only typed arrays to build the
 * scheduler's input, instead of looking two string keys up per stream: at
 * 100k streams that was most of a round's planning time.
 *
 * A stream's slot lives while the stream is in the catalog or has an owner;
 * freed slots are reused. Instance slots are never freed (instances are never
 * forgotten either).
 */
export class FleetIndex {
  /** Per stream slot: 1 when the stream is in the catalog and enabled. */
  enabled = new Uint8Array(1024);
  /** Per stream slot: the owner's instance slot, or -1. */
  owner = new Int32Array(1024).fill(-1);
  /** Per stream slot: 1 while its owner is told to stop it (see Ownership.revoking). */
  revoking = new Uint8Array(1024);
  /** Per stream slot: the stream id, or undefined for a free slot. */
  readonly streamIds: Array<string | undefined> = [];
  /** Per instance slot: the instance id. */
  readonly instanceIds: string[] = [];
  private readonly streamSlots = new Map<string, number>();
  private readonly instanceSlots = new Map<string, number>();
  private readonly inCatalog: Set<number> = new Set();
  private readonly free: number[] = [];

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

  streamSlot(id: string): number | undefined {
    return this.streamSlots.get(id);
  }

  catalogSet(id: string, enabled: boolean): void {
    const slot = this.internStream(id);
    this.inCatalog.add(slot);
    this.enabled[slot] = enabled ? 1 : 0;
  }

  catalogDelete(id: string): void {
    const slot = this.streamSlots.get(id);
    if (slot === undefined) return;
    this.inCatalog.delete(slot);
    this.enabled[slot] = 0;
    this.release(slot);
  }

  catalogClear(): void {
    for (const slot of [...this.inCatalog]) this.catalogDelete(this.streamIds[slot]!);
  }

  ownerSet(streamId: string, instanceId: string, revoking: boolean): void {
    const slot = this.internStream(streamId);
    this.owner[slot] = this.instanceSlot(instanceId);
    this.revoking[slot] = revoking ? 1 : 0;
  }

  ownerClear(streamId: string): void {
    const slot = this.streamSlots.get(streamId);
    if (slot === undefined) return;
    this.owner[slot] = -1;
    this.revoking[slot] = 0;
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
    if (this.inCatalog.has(slot) || this.owner[slot] !== -1) return;
    this.streamSlots.delete(this.streamIds[slot]!);
    this.streamIds[slot] = undefined;
    this.free.push(slot);
  }

  private grow(): void {
    const size = this.owner.length * 2;
    const enabled = new Uint8Array(size);
    enabled.set(this.enabled);
    const owner = new Int32Array(size).fill(-1);
    owner.set(this.owner);
    const revoking = new Uint8Array(size);
    revoking.set(this.revoking);
    this.enabled = enabled;
    this.owner = owner;
    this.revoking = revoking;
  }
}
