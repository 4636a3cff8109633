/**
 * The few AdminService calls the benchmarks need, as promises: the
 * simulator's batched catalog calls plus a look at one instance.
 */
import { credentials, type ServiceError } from "@grpc/grpc-js";
import { AdminServiceClient, type InstanceInfo } from "../../src/gen/orchestrator/v1/admin.js";
import { SimulatorAdmin } from "../../src/simulator/admin-api.js";

export function streamId(i: number, prefix = "st"): string {
  return `${prefix}-${String(i).padStart(6, "0")}`;
}

export class Admin {
  private readonly catalog: SimulatorAdmin;
  private readonly stub: AdminServiceClient;

  constructor(address: string) {
    this.catalog = new SimulatorAdmin(address);
    this.stub = new AdminServiceClient(address, credentials.createInsecure());
  }

  /** Creates (or updates) streams in batches; resolves with the ids. */
  async upsert(ids: string[]): Promise<string[]> {
    await this.catalog.upsertStreams(ids);
    return ids;
  }

  /** Creates streams `prefix-000000` ... for `count` streams starting at `from`. */
  createStreams(count: number, prefix = "st", from = 0): Promise<string[]> {
    return this.upsert(Array.from({ length: count }, (_, i) => streamId(from + i, prefix)));
  }

  deleteStreams(ids: string[]): Promise<number> {
    return this.catalog.deleteStreams(ids);
  }

  /** One instance as the orchestrator sees it (served from memory). */
  instance(instanceId: string): Promise<InstanceInfo | undefined> {
    return new Promise((resolve, reject) =>
      this.stub.getInstance({ instanceId }, (e: ServiceError | null, r) => (e ? reject(e) : resolve(r.instance))),
    );
  }

  close(): void {
    this.catalog.close();
    this.stub.close();
  }
}
