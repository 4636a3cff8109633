/**
 * Calls every gRPC method and HTTP route of an orchestrator with a given
 * token over a given channel, and reports how each ended: the gRPC status
 * code ("OK" when the call got through to its handler), or the HTTP status.
 * The requests are raw bytes (an empty message, a hello, a reflection
 * query), so one probe covers every service without its stubs.
 */
import https from "node:https";
import http from "node:http";
import { Client, Metadata, status, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import { AdminServiceService } from "../../src/gen/orchestrator/v1/admin.js";
import { ConnectRequest } from "../../src/gen/orchestrator/v1/orchestrator.js";

export type Outcome = "OK" | keyof typeof status;

const raw = (b: Buffer) => b;
const name = (code: number) => status[code] as keyof typeof status;

export const ADMIN_METHODS = Object.values(AdminServiceService).map((m) => ({ path: m.path, streaming: m.responseStream }));

export class AuthProbe {
  private readonly client: Client;

  constructor(address: string, credentials: ChannelCredentials) {
    this.client = new Client(address, credentials);
  }

  private metadata(token: string | undefined): Metadata {
    const metadata = new Metadata();
    if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
    return metadata;
  }

  /** A unary call with an empty request: OK, or how it failed (INVALID_ARGUMENT counts as having reached the handler). */
  unary(path: string, token: string | undefined, request = Buffer.alloc(0)): Promise<Outcome> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, raw, raw, request, this.metadata(token), { deadline: Date.now() + 5_000 }, (error: ServiceError | null) =>
        resolve(error ? name(error.code) : "OK"),
      );
    });
  }

  /** A server stream: refused at once, or still open (or done) after `openMs`. */
  serverStream(path: string, token: string | undefined, openMs = 400): Promise<Outcome> {
    return new Promise((resolve) => {
      const call = this.client.makeServerStreamRequest(path, raw, raw, Buffer.alloc(0), this.metadata(token));
      const timer = setTimeout(() => {
        resolve("OK");
        call.cancel();
      }, openMs);
      call.on("data", () => undefined);
      call.on("error", (error: ServiceError) => {
        clearTimeout(timer);
        resolve(error.code === status.CANCELLED ? "OK" : name(error.code));
      });
      call.on("end", () => {
        clearTimeout(timer);
        resolve("OK");
      });
    });
  }

  /** A bidi call that sends `first` and waits for one response (OK) or the call's status. */
  bidi(path: string, token: string | undefined, first: Buffer): Promise<Outcome> {
    return new Promise((resolve) => {
      const call = this.client.makeBidiStreamRequest(path, raw, raw, this.metadata(token), { deadline: Date.now() + 5_000 });
      call.on("data", () => {
        resolve("OK");
        call.cancel();
      });
      call.on("error", (error: ServiceError) => resolve(error.code === status.CANCELLED ? "OK" : name(error.code)));
      call.write(first);
    });
  }

  connect(token: string | undefined, instanceId = "probe_instance"): Promise<Outcome> {
    const hello = Buffer.from(ConnectRequest.encode({ msg: { $case: "hello", value: { instanceId, capacity: 1, labels: {}, version: "probe", held: [] } } }).finish());
    return this.bidi("/orchestrator.v1.OrchestratorService/Connect", token, hello);
  }

  health(token: string | undefined): Promise<Outcome> {
    return this.unary("/grpc.health.v1.Health/Check", token);
  }

  /** list_services (field 7, an empty string). */
  reflection(token: string | undefined): Promise<Outcome> {
    return this.bidi("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", token, Buffer.from([0x3a, 0x00]));
  }

  admin(path: string, streaming: boolean, token: string | undefined): Promise<Outcome> {
    return streaming ? this.serverStream(path, token) : this.unary(path, token);
  }

  close(): void {
    this.client.close();
  }
}

/** GET `url` with a bearer token (and a CA for https), resolving with the status code. */
/** GET `url` (https with `ca` trusted, when given): its status and body. */
export function httpGet(url: string, token: string | undefined, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const get = url.startsWith("https:") ? https.get : http.get;
    const req = get(url, { headers, ...(ca ? { ca } : {}) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

export async function httpStatus(url: string, token: string | undefined, ca?: Buffer): Promise<number> {
  return (await httpGet(url, token, ca)).status;
}
