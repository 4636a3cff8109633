/**
 * The orchestrator addresses a client is given: one `host:port`, several in an array, or
 * several in one comma-separated string ("a:50051, b:50051", as an environment variable
 * holds them). With several replicas only the leader welcomes instances; the client tries
 * the addresses in order (src/client/address-rotation.ts).
 */
import { isIPv6 } from "node:net";

/** A `host:port` taken apart; `host` has no brackets, also for IPv6. */
export interface HostPort {
  host: string;
  port: number;
}

// One DNS label: letters, digits, hyphens inside; underscores too, which some private zones use.
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const RULE = "host:port (a host name, an IPv4 address or a [bracketed] IPv6 address, then a port from 1 to 65535)";

function isHostName(host: string): boolean {
  const labels = (host.endsWith(".") ? host.slice(0, -1) : host).split(".");
  return host.length <= 253 && labels.every((label) => LABEL.test(label));
}

/** Takes `address` apart, or returns undefined when it is not a dialable host:port. */
export function splitHostPort(address: string): HostPort | undefined {
  const match = /^(\[[^\]]*\]|[^:[\]]+):(\d{1,5})$/.exec(address);
  if (!match) return undefined;
  const [, rawHost, rawPort] = match as unknown as [string, string, string];
  const port = Number(rawPort);
  if (port < 1 || port > 65_535) return undefined;
  if (rawHost.startsWith("[")) {
    const host = rawHost.slice(1, -1);
    return isIPv6(host) ? { host, port } : undefined;
  }
  return isHostName(rawHost) ? { host: rawHost, port } : undefined;
}

/** The `host:port` form of a host (an IPv6 address in brackets) and a port. */
export function joinHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The addresses `value` names, in order, without repeats.
 * @param field what to call the setting in an error, e.g. "address" or "ORCHESTRATOR_URL".
 * @throws TypeError naming `field` and the entry that is not host:port.
 */
export function parseAddresses(value: string | readonly string[], field = "address"): string[] {
  // Checked at run time too: the options may come from JavaScript or a configuration file.
  if (typeof value !== "string" && !Array.isArray(value)) throw new TypeError(`${field} must be a host:port string or an array of them`);
  const entries: readonly unknown[] = typeof value === "string" ? value.split(",") : value;
  if (entries.length === 0) throw new TypeError(`${field} must name at least one ${RULE}`);
  const addresses: string[] = [];
  entries.forEach((entry: unknown, index) => {
    if (typeof entry !== "string") throw new TypeError(`${field}: entry ${index + 1} is a ${typeof entry}, not a host:port string`);
    const address = entry.trim();
    if (address === "") throw new TypeError(`${field}: entry ${index + 1} of ${JSON.stringify(value)} is empty; expected ${RULE}`);
    if (!splitHostPort(address)) throw new TypeError(`${field}: ${JSON.stringify(address)} is not ${RULE}`);
    if (!addresses.includes(address)) addresses.push(address);
  });
  return addresses;
}
