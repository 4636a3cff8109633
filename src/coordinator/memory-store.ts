import type { CoordinatorStore, FleetSnapshot, FreezeRecord, InstanceRecord, RoundWrites, SeenWrite } from "./store-port.js";
import type { AuditEvent, CatalogStream, Ownership } from "./types.js";

/** Which store calls fail next, and how many times each. */
export interface InjectedFailures {
  writeRound: number;
  writeSeen: number;
  saveFreeze: number;
  loadStreams: number;
}

/**
 * The coordinator's store in memory, with the same rules as PostgreSQL's
 * (one owner per stream, fresh epochs from one sequence, a round written
 * whole or not at all, grants of disabled or deleted streams dropped), for
 * tests that drive the coordinator with a clock of their own. Failures can be
 * injected, and writes can be held open to test what happens meanwhile.
 */
export class MemoryStore implements CoordinatorStore {
  readonly instances = new Map<string, InstanceRecord>();
  readonly streams = new Map<string, CatalogStream>();
  readonly assignments = new Map<string, Ownership>();
  readonly events: AuditEvent[] = [];
  freeze: FreezeRecord | null = null;
  restartLeaseMs = 0;
  readonly fail: InjectedFailures = { writeRound: 0, writeSeen: 0, saveFreeze: 0, loadStreams: 0 };
  /** Rounds written so far. */
  rounds = 0;
  /** Calls made so far, by method (failed ones included). */
  readonly calls: Record<keyof InjectedFailures, number> = { writeRound: 0, writeSeen: 0, saveFreeze: 0, loadStreams: 0 };
  /** Writes waiting behind holdWrites() right now, by method. */
  readonly held: Record<keyof InjectedFailures, number> = { writeRound: 0, writeSeen: 0, saveFreeze: 0, loadStreams: 0 };
  private epoch = 0;
  private gate?: Promise<void>;

  /** Holds every write (not reads) until the returned function is called. */
  holdWrites(): () => void {
    let open!: () => void;
    this.gate = new Promise((resolve) => (open = resolve));
    return () => {
      this.gate = undefined;
      open();
    };
  }

  /**
   * A catalog write as the admin API or the table sync makes it: rows replaced
   * or deleted (null), and assignments of streams that end up disabled or
   * deleted removed with them. Call `coordinator.catalogChanged` afterwards.
   */
  writeCatalog(changes: Array<CatalogStream | { id: string; deleted: true }>): string[] {
    for (const change of changes) {
      if ("deleted" in change) this.streams.delete(change.id);
      else this.streams.set(change.id, { ...change, metadata: { ...change.metadata } });
      if (!this.streams.get(change.id)?.enabled) this.assignments.delete(change.id);
    }
    return changes.map((c) => c.id);
  }

  async loadFleet(): Promise<FleetSnapshot> {
    return {
      instances: [...this.instances.values()].map((r) => structuredClone(r)),
      streams: [...this.streams.values()].map((s) => ({ ...s })),
      assignments: new Map([...this.assignments].map(([id, o]) => [id, { ...o }])),
      freeze: this.freeze,
      restartLeaseMs: this.restartLeaseMs,
    };
  }

  async loadStreams(ids: string[]): Promise<CatalogStream[]> {
    await this.enter("loadStreams");
    return ids.flatMap((id) => {
      const stream = this.streams.get(id);
      return stream ? [{ ...stream }] : [];
    });
  }

  async writeRound(writes: RoundWrites): Promise<Map<string, number>> {
    await this.enter("writeRound");
    for (const record of writes.instances) {
      const before = this.instances.get(record.id);
      this.instances.set(record.id, {
        ...record,
        registeredAt: before?.registeredAt ?? record.registeredAt,
        connectedAt: record.connectedAt ?? before?.connectedAt ?? null,
        lastSeenAt: record.lastSeenAt ?? before?.lastSeenAt ?? null,
        metrics: before?.metrics ?? null,
      });
    }
    for (const r of writes.releases) if (this.assignments.get(r.streamId)?.instanceId === r.instanceId) this.assignments.delete(r.streamId);
    const epochs = new Map<string, number>();
    for (const g of writes.grants) {
      if (!this.streams.get(g.streamId)?.enabled) continue;
      const epoch = ++this.epoch;
      this.assignments.set(g.streamId, { instanceId: g.instanceId, epoch, revoking: false });
      epochs.set(g.streamId, epoch);
    }
    for (const r of writes.revocations) {
      const ownership = this.assignments.get(r.streamId);
      if (ownership?.instanceId === r.instanceId) this.assignments.set(r.streamId, { ...ownership, revoking: true });
    }
    this.events.push(...writes.events);
    this.rounds++;
    return epochs;
  }

  async writeSeen(seen: SeenWrite[]): Promise<void> {
    await this.enter("writeSeen");
    for (const s of seen) {
      const record = this.instances.get(s.id);
      // A copy, as PostgreSQL's serialization makes one: the instance keeps updating its own object.
      if (record) this.instances.set(s.id, { ...record, lastSeenAt: s.at, metrics: s.metrics ? structuredClone(s.metrics) : record.metrics });
    }
  }

  async saveRestartLease(ms: number): Promise<void> {
    this.restartLeaseMs = ms;
  }

  async saveFreeze(freeze: FreezeRecord | null): Promise<void> {
    await this.enter("saveFreeze");
    this.freeze = freeze;
  }

  /** Audit events of `kind` written so far. */
  eventsOf(kind: string): AuditEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }

  /** Counts the call, waits while writes are held, then fails it if a failure was injected. */
  private async enter(call: keyof InjectedFailures): Promise<void> {
    this.calls[call]++;
    if (this.gate && call !== "loadStreams") {
      this.held[call]++;
      await this.gate;
      this.held[call]--;
    }
    if (this.fail[call] <= 0) return;
    this.fail[call]--;
    throw Object.assign(new Error(`injected failure of ${call}`), { code: "08006" });
  }
}
