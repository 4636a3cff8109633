/**
 * Which orchestrator a command-line tool talks to, and how: an address in any
 * form parseOrchestratorUrl takes (`host:port`, `grpc://` / `http://` for
 * plaintext, `grpcs://` / `https://` for TLS), plus the token and TLS files of
 * securityFromEnv. Shared by `streams:import` and `simulate`, so an operator
 * configures both the same way as the instances.
 */
import { checkToken, parseOrchestratorUrl, securityFromEnv, type ConnectionSecurity } from "../client/connection-security.js";

/** A bad address or security variable; the message names it and the rule, on one line. */
export class TargetError extends Error {
  override name = "TargetError";
}

export interface OrchestratorTarget {
  /** `host:port`, what grpc-js dials. */
  address: string;
  /** The token and the TLS settings to dial it with. */
  security: ConnectionSecurity;
}

/**
 * Parses `url` (from `field`, a flag or a variable) into a `host:port` address
 * and whether it asks for TLS.
 * @throws TargetError naming `field` when the value is empty or not an address.
 */
export function parseTargetUrl(url: string, field: string): { address: string; tls: boolean } {
  const expected = "host:port, or grpcs:// (https://) for TLS or grpc:// (http://) for plaintext followed by host[:port]";
  if (url.trim() === "") throw new TargetError(`${field} must be ${expected}`);
  let parsed;
  try {
    parsed = parseOrchestratorUrl(url);
  } catch {
    throw new TargetError(`${field} must be ${expected}, got ${JSON.stringify(url)}`);
  }
  // parseOrchestratorUrl leaves a host as it is; a blank in it would only fail later, as "cannot reach".
  if (/\s/.test(parsed.address) || !/^[^:]+:\d+$|^\[[^\]]+\]:\d+$/.test(parsed.address)) {
    throw new TargetError(`${field} must be ${expected}, got ${JSON.stringify(url)}`);
  }
  return parsed;
}

/**
 * The token and TLS settings from ORCHESTRATOR_TOKEN and the ORCHESTRATOR_*_FILE
 * variables; TLS when `tls` (the address said so) or when any file is set.
 * @throws TargetError naming the variable at fault.
 */
export function securityOf(env: NodeJS.ProcessEnv, tls: boolean): ConnectionSecurity {
  try {
    return securityFromEnv(env, tls);
  } catch (error) {
    throw new TargetError((error as Error).message);
  }
}

/**
 * A token from a variable other than ORCHESTRATOR_TOKEN (a tool that needs two
 * roles); undefined when unset or blank.
 * @throws TargetError naming `name` when the token could not be sent as a header.
 */
export function tokenOf(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const token = env[name]?.trim() || undefined;
  if (token === undefined) return undefined;
  try {
    checkToken(token, name);
  } catch (error) {
    throw new TargetError((error as Error).message);
  }
  return token;
}

/**
 * The target of a tool that talks to a running orchestrator by default: the
 * flag, else ORCHESTRATOR_URL, else ORCHESTRATOR_ADDRESS, else 127.0.0.1 on
 * GRPC_PORT, so the environment the server was started with works as is.
 * @throws TargetError naming the flag or variable at fault.
 */
export function resolveTarget(flag: string | undefined, env: NodeJS.ProcessEnv, flagName = "--address"): OrchestratorTarget {
  const source =
    flag !== undefined
      ? { value: flag, field: flagName }
      : env.ORCHESTRATOR_URL?.trim()
        ? { value: env.ORCHESTRATOR_URL, field: "ORCHESTRATOR_URL" }
        : env.ORCHESTRATOR_ADDRESS?.trim()
          ? { value: env.ORCHESTRATOR_ADDRESS, field: "ORCHESTRATOR_ADDRESS" }
          : { value: `127.0.0.1:${env.GRPC_PORT?.trim() || "50051"}`, field: "GRPC_PORT" };
  const { address, tls } = parseTargetUrl(source.value, source.field);
  return { address, security: securityOf(env, tls) };
}

/** How a target is described to the operator: its address, and TLS when on. */
export function describeTarget(target: OrchestratorTarget): string {
  return `${target.address}${target.security.tls ? " (TLS)" : ""}`;
}

/**
 * Keeps a tool's stderr to its own one-line messages when it dials TLS by IP
 * address: grpc-js then sets the TLS server name to the IP (grpc/grpc-node#1919),
 * and Node warns (DEP0123) although the connection is fine, the certificate being
 * checked against its IP SAN. Every other warning is printed as before.
 */
export function muteIpServerNameWarning(): void {
  const printers = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error & { code?: string }) => {
    if (warning.code === "DEP0123") return;
    for (const print of printers) print.call(process, warning);
  });
}
