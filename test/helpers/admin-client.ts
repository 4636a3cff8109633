import { credentials, InterceptingCall, type Interceptor, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import {
  AdminServiceClient,
  type DeleteStreamsResponse,
  type GetInstanceResponse,
  type SetStreamsEnabledResponse,
  type StreamSpec,
  type UpsertStreamsResponse,
} from "../../src/gen/orchestrator/v1/admin.js";

/** Promise wrappers over the generated AdminService stub. */
export class AdminClient {
  readonly stub: AdminServiceClient;

  /**
   * Plaintext by default; pass TLS credentials for a secured orchestrator, and
   * a token to send on every call (as metadata, which also works in plaintext).
   */
  constructor(address: string, channel: ChannelCredentials = credentials.createInsecure(), token?: string) {
    const withToken: Interceptor = (options, next) =>
      new InterceptingCall(next(options), {
        start: (metadata, listener, start) => {
          metadata.set("authorization", `Bearer ${token}`);
          start(metadata, listener);
        },
      });
    this.stub = new AdminServiceClient(address, channel, token === undefined ? {} : { interceptors: [withToken] });
  }

  upsert(streams: Array<Partial<StreamSpec> & { id: string }>): Promise<UpsertStreamsResponse> {
    const specs = streams.map((s) => ({ url: `http://radio.example/${s.id}`, name: s.id, metadata: {}, ...s }));
    return new Promise((resolve, reject) =>
      this.stub.upsertStreams({ streams: specs }, (e: ServiceError | null, r) => (e ? reject(e) : resolve(r))),
    );
  }

  delete(ids: string[]): Promise<DeleteStreamsResponse> {
    return new Promise((resolve, reject) =>
      this.stub.deleteStreams({ streamIds: ids }, (e: ServiceError | null, r) => (e ? reject(e) : resolve(r))),
    );
  }

  setEnabled(ids: string[], enabled: boolean): Promise<SetStreamsEnabledResponse> {
    return new Promise((resolve, reject) =>
      this.stub.setStreamsEnabled({ streamIds: ids, enabled }, (e: ServiceError | null, r) => (e ? reject(e) : resolve(r))),
    );
  }

  getInstance(instanceId: string): Promise<GetInstanceResponse> {
    return new Promise((resolve, reject) =>
      this.stub.getInstance({ instanceId }, (e: ServiceError | null, r) => (e ? reject(e) : resolve(r))),
    );
  }

  drain(instanceId: string): Promise<void> {
    return new Promise((resolve, reject) => this.stub.drainInstance({ instanceId }, (e: ServiceError | null) => (e ? reject(e) : resolve())));
  }

  undrain(instanceId: string): Promise<void> {
    return new Promise((resolve, reject) => this.stub.undrainInstance({ instanceId }, (e: ServiceError | null) => (e ? reject(e) : resolve())));
  }

  close(): void {
    this.stub.close();
  }
}

/** `n` stream ids named `prefix-000`... */
export function streamIds(n: number, prefix = "s"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
}
