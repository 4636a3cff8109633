/**
 * The security settings of the environment (README, "Security"): TLS files for
 * gRPC and the HTTP shim, token sources by role, and what stays open. Only
 * names and paths are kept here; the files are read by src/auth at start-up.
 */
import type { TokenSources } from "../auth/token-registry.js";
import { ConfigError } from "./config-error.js";

export interface SecurityConfig {
  /** gRPC over TLS with these files; mutual TLS when clientCaFile is set too. */
  grpcTls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** The HTTP shim over TLS: its own files, or the gRPC ones (HTTP_TLS=true). */
  httpTls?: { certFile: string; keyFile: string };
  tokens: TokenSources;
  /** Server reflection is served (and open to anyone: it tells only what the protos say). */
  reflection: boolean;
  /** /status, /instances and /metrics stay open even once tokens are configured. */
  httpStatusPublic: boolean;
}

function flag(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === "") return fallback;
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off"].includes(value)) return false;
  throw new ConfigError(`invalid ${name}=${JSON.stringify(env[name])}: must be true or false`);
}

function set(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** Both of a pair or neither. */
function pair(env: Record<string, string | undefined>, cert: string, key: string): { certFile: string; keyFile: string } | undefined {
  const certFile = set(env, cert);
  const keyFile = set(env, key);
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new ConfigError(`set both ${cert} and ${key}, or neither (${certFile ? key : cert} is missing)`);
  return { certFile, keyFile };
}

export function parseSecurityConfig(env: Record<string, string | undefined>): SecurityConfig {
  const grpcPair = pair(env, "TLS_CERT_FILE", "TLS_KEY_FILE");
  const clientCaFile = set(env, "TLS_CLIENT_CA_FILE");
  if (clientCaFile && !grpcPair) throw new ConfigError("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE: mutual TLS is TLS first");
  const ownHttp = pair(env, "HTTP_TLS_CERT_FILE", "HTTP_TLS_KEY_FILE");
  const httpSame = flag(env, "HTTP_TLS", false);
  if (httpSame && ownHttp) throw new ConfigError("set either HTTP_TLS=true (the gRPC files) or HTTP_TLS_CERT_FILE and HTTP_TLS_KEY_FILE, not both");
  if (httpSame && !grpcPair) throw new ConfigError("HTTP_TLS=true uses TLS_CERT_FILE and TLS_KEY_FILE, which are not set");
  const httpTls = ownHttp ?? (httpSame ? grpcPair : undefined);
  const tokens: SecurityConfig["tokens"] = {};
  const names = { instanceTokens: "INSTANCE_TOKENS", viewerTokens: "VIEWER_TOKENS", adminTokens: "ADMIN_TOKENS" } as const;
  for (const [key, name] of Object.entries(names) as Array<[keyof typeof names, string]>) {
    const inline = set(env, name);
    const file = set(env, `${name}_FILE`);
    if (inline !== undefined) tokens[key] = inline;
    if (file !== undefined) tokens[`${key}File`] = file;
  }
  return {
    ...(grpcPair ? { grpcTls: { ...grpcPair, ...(clientCaFile ? { clientCaFile } : {}) } } : {}),
    ...(httpTls ? { httpTls } : {}),
    tokens,
    reflection: flag(env, "REFLECTION", true),
    httpStatusPublic: flag(env, "HTTP_STATUS_PUBLIC", false),
  };
}
