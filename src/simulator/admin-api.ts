import { status, type Metadata, type ServiceError } from "@grpc/grpc-js";
import { callMetadata, channelCredentials, type ConnectionSecurity } from "../client/connection-security.js";
import { MAX_BATCH } from "../domain/stream-spec.js";
import { AdminServiceClient, type GetStatusResponse, type InstanceInfo, type StreamSpec } from "../gen/orchestrator/v1/admin.js";

/** `count` stream ids `sim-00001`..., at least five digits so they sort as numbers. */
export function simStreamIds(count: number, prefix = "sim"): string[] {
  const width = Math.max(5, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, "0")}`);
}

/** An orchestrator call that failed, with a one-line message for the operator. */
export class AdminCallError extends Error {
  override name = "AdminCallError";

  /** The gRPC status code the call ended with, so a caller can tell a refusal from an outage. */
  constructor(
    message: string,
    readonly code: status,
  ) {
    super(message);
  }
}

function describe(address: string, what: string, error: ServiceError): AdminCallError {
  if (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED) {
    return new AdminCallError(`cannot reach the orchestrator at ${address} (${what}): ${error.details || status[error.code]}`, error.code);
  }
  return new AdminCallError(`${what} failed at ${address}: ${status[error.code] ?? error.code}: ${error.details}`, error.code);
}

/** The AdminService calls the simulator makes, as promises with deadlines. */
export class SimulatorAdmin {
  readonly #client: AdminServiceClient;
  readonly #address: string;
  readonly #metadata: Metadata;

  /** `security`: an admin token (the calls write the catalog) and the TLS settings. */
  constructor(address: string, security: ConnectionSecurity = {}) {
    this.#address = address;
    this.#client = new AdminServiceClient(address, channelCredentials(security));
    this.#metadata = callMetadata(security);
  }

  /** The fleet at a glance; fails after `timeoutMs`. */
  status(timeoutMs = 2_000): Promise<GetStatusResponse> {
    return new Promise((resolve, reject) =>
      this.#client.getStatus({}, this.#metadata.clone(), { deadline: Date.now() + timeoutMs }, (error, response) =>
        error ? reject(describe(this.#address, "GetStatus", error)) : resolve(response),
      ),
    );
  }

  /** Creates (or updates) the streams in batches of at most {@link MAX_BATCH}. */
  async upsertStreams(ids: readonly string[]): Promise<{ created: number; updated: number; unchanged: number }> {
    const total = { created: 0, updated: 0, unchanged: 0 };
    for (let i = 0; i < ids.length; i += MAX_BATCH) {
      const streams: StreamSpec[] = ids.slice(i, i + MAX_BATCH).map((id) => ({
        id,
        url: `http://radio.invalid/${id}`,
        name: `Simulated ${id}`,
        metadata: { simulated: "true" },
      }));
      const response = await new Promise<{ created: number; updated: number; unchanged: number }>((resolve, reject) =>
        this.#client.upsertStreams({ streams }, this.#metadata.clone(), { deadline: Date.now() + 60_000 }, (error, r) =>
          error ? reject(describe(this.#address, "UpsertStreams", error)) : resolve(r),
        ),
      );
      total.created += response.created;
      total.updated += response.updated;
      total.unchanged += response.unchanged;
    }
    return total;
  }

  /** Deletes the streams in batches; resolves with how many existed. */
  async deleteStreams(ids: readonly string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < ids.length; i += MAX_BATCH) {
      const streamIds = ids.slice(i, i + MAX_BATCH);
      deleted += await new Promise<number>((resolve, reject) =>
        this.#client.deleteStreams({ streamIds }, this.#metadata.clone(), { deadline: Date.now() + 60_000 }, (error, r) =>
          error ? reject(describe(this.#address, "DeleteStreams", error)) : resolve(r.deleted),
        ),
      );
    }
    return deleted;
  }

  /** One instance as the orchestrator sees it, or undefined when unknown. */
  instance(instanceId: string, timeoutMs = 2_000): Promise<InstanceInfo | undefined> {
    return new Promise((resolve, reject) =>
      this.#client.getInstance({ instanceId }, this.#metadata.clone(), { deadline: Date.now() + timeoutMs }, (error, response) =>
        error ? (error.code === status.NOT_FOUND ? resolve(undefined) : reject(describe(this.#address, "GetInstance", error))) : resolve(response.instance),
      ),
    );
  }

  close(): void {
    this.#client.close();
  }
}
