/**
 * The few AdminService calls the benchmarks need, as promises: the
 * simulator's batched catalog calls and instance look-up, under the names the
 * benchmarks use.
 */
import type { InstanceInfo } from "../../src/gen/orchestrator/v1/admin.js";
import { SimulatorAdmin } from "../../src/simulator/admin-api.js";

export function streamId(i: number, prefix = "st"): string {
  return `${prefix}-${String(i).padStart(6, "0")}`;
}

export class Admin {
  private readonly api: SimulatorAdmin;

  constructor(address: string) {
    this.api = new SimulatorAdmin(address);
  }

  /** Creates (or updates) streams in batches; resolves with the ids. */
  async upsert(ids: string[]): Promise<string[]> {
    await this.api.upsertStreams(ids);
    return ids;
  }

  /** Creates streams `prefix-000000` ... for `count` streams starting at `from`. */
  createStreams(count: number, prefix = "st", from = 0): Promise<string[]> {
    return this.upsert(Array.from({ length: count }, (_, i) => streamId(from + i, prefix)));
  }

  deleteStreams(ids: string[]): Promise<number> {
    return this.api.deleteStreams(ids);
  }

  /** One instance as the orchestrator sees it (served from memory). */
  instance(instanceId: string): Promise<InstanceInfo | undefined> {
    return this.api.instance(instanceId);
  }

  close(): void {
    this.api.close();
  }
}
