/**
 * How a client reaches the orchestrator securely: TLS (the system's roots, or
 * a CA of the operator's, plus a client certificate for mutual TLS) and a
 * bearer token. Shared by the instance client, the CLIs, the simulator and the
 * benchmarks. The token travels as call metadata rather than as gRPC call
 * credentials, which grpc-js refuses on a plaintext channel: behind a proxy
 * that terminates TLS, or on loopback, the token must still be sent.
 */
import { readFileSync } from "node:fs";
import { BEARER_TOKEN_RULE, isBearerToken } from "../domain/bearer-token.js";
import { credentials as grpcCredentials, Metadata, type ChannelCredentials } from "@grpc/grpc-js";

export interface ClientTls {
  /** PEM CA certificates to trust instead of the system's roots. */
  ca?: Buffer;
  /** A client certificate and its key, for an orchestrator with mutual TLS. */
  cert?: Buffer;
  key?: Buffer;
}

export interface ConnectionSecurity {
  /** Sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** TLS: true for the system's roots, or the files' contents. Absent: plaintext. */
  tls?: true | ClientTls;
}


/** @throws Error naming `field` when the token could not be sent as a header. */
export function checkToken(token: string, field = "token"): void {
  if (!isBearerToken(token)) throw new Error(`${field}: ${BEARER_TOKEN_RULE}`);
}

export function channelCredentials(security: ConnectionSecurity = {}): ChannelCredentials {
  const tls = security.tls;
  if (!tls) return grpcCredentials.createInsecure();
  if (tls === true) return grpcCredentials.createSsl();
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new Error("tls: a client certificate needs its key, and a key its certificate");
  return grpcCredentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

/** The metadata every call carries (the token, if any). */
export function callMetadata(security: ConnectionSecurity = {}): Metadata {
  const metadata = new Metadata();
  if (security.token !== undefined) {
    checkToken(security.token);
    metadata.set("authorization", `Bearer ${security.token}`);
  }
  return metadata;
}

/**
 * An orchestrator URL as the users' configuration writes it: `host:port`,
 * `http://` / `grpc://` (plaintext) or `https://` / `grpcs://` (TLS). The
 * port defaults to 443 with TLS and 50051 without.
 */
export function parseOrchestratorUrl(url: string): { address: string; tls: boolean } {
  const match = /^(?:(https?|grpcs?):\/\/)?([^/]+?)\/?$/.exec(url.trim());
  if (!match) throw new Error(`orchestrator URL ${JSON.stringify(url)}: expected host:port, or http(s):// or grpc(s):// and a host`);
  const tls = match[1] === "https" || match[1] === "grpcs";
  const host = match[2]!;
  const hasPort = /:\d+$/.test(host) && !/^\[[^\]]*\]$/.test(host);
  return { address: hasPort ? host : `${host}:${tls ? 443 : 50051}`, tls };
}

/**
 * The security settings of a tool from its environment: ORCHESTRATOR_TOKEN,
 * and TLS when `tls` (an https:// URL) or ORCHESTRATOR_CA_FILE is set, with
 * ORCHESTRATOR_CERT_FILE and ORCHESTRATOR_KEY_FILE for mutual TLS.
 * @throws Error naming the variable whose file cannot be read.
 */
export function securityFromEnv(env: NodeJS.ProcessEnv, tls = false): ConnectionSecurity {
  const read = (name: string): Buffer | undefined => {
    const file = env[name]?.trim();
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`${name}=${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  };
  const token = env.ORCHESTRATOR_TOKEN?.trim() || undefined;
  if (token) checkToken(token, "ORCHESTRATOR_TOKEN");
  const files: ClientTls = {};
  const ca = read("ORCHESTRATOR_CA_FILE");
  const cert = read("ORCHESTRATOR_CERT_FILE");
  const key = read("ORCHESTRATOR_KEY_FILE");
  if (ca) files.ca = ca;
  if (cert) files.cert = cert;
  if (key) files.key = key;
  const useTls = tls || Object.keys(files).length > 0;
  return { ...(token ? { token } : {}), ...(useTls ? { tls: Object.keys(files).length ? files : true } : {}) };
}
