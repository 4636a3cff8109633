/**
 * Turns the configured addresses into the endpoints one cycle dials. A name with several
 * address records (one per replica, the usual way to put a set of replicas behind one name)
 * becomes one endpoint per record: grpc-js's pick_first would otherwise always settle on the
 * first record that accepts TCP, which may be a standby that refuses every Connect, and the
 * client would never reach the leader behind a later record.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Logger } from "pino";
import { joinHostPort, splitHostPort } from "./orchestrator-addresses.js";
import type { Endpoint } from "./types.js";

/** The addresses a host name resolves to (IPv4 or IPv6, without brackets), in the order to try them. */
export type HostResolver = (host: string) => Promise<string[]>;

/** The system's resolver (what getaddrinfo says: /etc/hosts, DNS), every record, in its order. */
export const systemResolver: HostResolver = async (host) => (await lookup(host, { all: true })).map((record) => record.address);

/**
 * The endpoints `addresses` stand for right now, in order, without repeats. Literal IPs, names
 * with one record and names that do not resolve stay as they are, so grpc-js dials them as it
 * always did (and reports its own resolution error for the last). A name with several records
 * becomes one endpoint per record, each carrying the name as its `serverName`, so TLS still
 * checks the certificate against the name.
 */
export async function expandAddresses(addresses: readonly string[], resolve: HostResolver, log: Logger, timeoutMs = RESOLVE_TIMEOUT_MS): Promise<Endpoint[]> {
  const expanded = await Promise.all(addresses.map((address) => expandOne(address, resolve, log, timeoutMs)));
  const seen = new Set<string>();
  return expanded.flat().filter((endpoint) => {
    const key = endpointKey(endpoint);
    return !seen.has(key) && seen.add(key);
  });
}

/**
 * How long a look-up may take before the name is dialled as it is. getaddrinfo cannot be
 * cancelled, and a resolver that does not answer (its server unreachable) would otherwise
 * hold every reconnect for the system's own timeouts, several seconds per attempt.
 */
export const RESOLVE_TIMEOUT_MS = 2_000;

/** `promise`, or a rejection after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function expandOne(address: string, resolve: HostResolver, log: Logger, timeoutMs: number): Promise<Endpoint[]> {
  const target = splitHostPort(address);
  if (!target || isIP(target.host) !== 0) return [{ address }];
  let records: string[];
  try {
    records = [...new Set(await within(resolve(target.host), timeoutMs, `looking up ${target.host}`))];
  } catch (error) {
    log.debug({ err: error, address }, "could not resolve the orchestrator's name; dialling it as it is");
    return [{ address }];
  }
  if (records.length <= 1) return [{ address }];
  log.debug({ address, records }, "the orchestrator's name has several records; trying each");
  return records.map((record) => ({ address: joinHostPort(record, target.port), serverName: target.host }));
}

/** Tells endpoints apart: the same IP reached under two names is two endpoints (two certificates' names). */
export function endpointKey(endpoint: Endpoint): string {
  return endpoint.serverName === undefined ? endpoint.address : `${endpoint.address} ${endpoint.serverName}`;
}

/** How an endpoint appears in logs: the address dialled and, for a record of a name, the name. */
export function describeEndpoint(endpoint: Endpoint): string {
  return endpoint.serverName === undefined ? endpoint.address : `${endpoint.address} (${endpoint.serverName})`;
}
