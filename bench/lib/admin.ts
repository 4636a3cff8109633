/**
 * The few AdminService calls the benchmarks need, as promises.
 */
import { credentials, type ServiceError } from "@grpc/grpc-js";
import { AdminServiceClient, type InstanceInfo, type StreamSpec } from "../../src/gen/orchestrator/v1/admin.js";

/** UpsertStreams accepts at most this many streams per call. */
export const UPSERT_BATCH = 10_000;

export function streamId(i: number, prefix = "st"): string {
  return `${prefix}-${String(i).padStart(6, "0")}`;
}

function spec(id: string): StreamSpec {
  return { id, url: `http://radio.example/${id}/live.mp3`, name: `Radio ${id}`, metadata: { cidade: "Recife", estado: "PE" } };
}

export class Admin {
  private readonly stub: AdminServiceClient;

  constructor(address: string) {
    this.stub = new AdminServiceClient(address, credentials.createInsecure());
  }

  private upsertBatch(ids: string[]): Promise<number> {
    return new Promise((resolve, reject) =>
      this.stub.upsertStreams({ streams: ids.map(spec) }, (e: ServiceError | null, r) => (e ? reject(e) : resolve(r.created + r.updated))),
    );
  }

  /** Creates (or updates) streams, at most UPSERT_BATCH per call; resolves with the ids. */
  async upsert(ids: string[]): Promise<string[]> {
    for (let i = 0; i < ids.length; i += UPSERT_BATCH) await this.upsertBatch(ids.slice(i, i + UPSERT_BATCH));
    return ids;
  }

  /** Creates streams `prefix-000000` ... for `count` streams starting at `from`. */
  createStreams(count: number, prefix = "st", from = 0): Promise<string[]> {
    return this.upsert(Array.from({ length: count }, (_, i) => streamId(from + i, prefix)));
  }

  deleteStreams(ids: string[]): Promise<number> {
    return new Promise((resolve, reject) =>
      this.stub.deleteStreams({ streamIds: ids }, (e: ServiceError | null, r) => (e ? reject(e) : resolve(r.deleted))),
    );
  }

  /** One instance as the orchestrator sees it (served from memory). */
  instance(instanceId: string): Promise<InstanceInfo | undefined> {
    return new Promise((resolve, reject) =>
      this.stub.getInstance({ instanceId }, (e: ServiceError | null, r) => (e ? reject(e) : resolve(r.instance))),
    );
  }

  close(): void {
    this.stub.close();
  }
}
