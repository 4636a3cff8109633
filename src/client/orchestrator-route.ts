/**
 * How an InstanceClient reaches the orchestrator, from its options: the addresses it was
 * given, the rotation that picks which one to dial next, and the transport that dials it.
 */
import type { Logger } from "pino";
import { expandAddresses, systemResolver } from "./address-resolver.js";
import { AddressRotation } from "./address-rotation.js";
import { callMetadata, channelCredentials } from "./connection-security.js";
import { createGrpcTransport } from "./grpc-transport.js";
import { parseAddresses } from "./orchestrator-addresses.js";
import type { ConnectTransport, Endpoint, InstanceClientOptions } from "./types.js";

export interface OrchestratorRoute {
  /** The configured addresses, parsed, in order. */
  addresses: readonly string[];
  rotation: AddressRotation;
  transport: ConnectTransport;
}

/** The route the options describe (they were validated already). */
export function orchestratorRoute(options: InstanceClientOptions, log: Logger): OrchestratorRoute {
  const addresses = parseAddresses(options.address);
  // A transport of the caller's own dials what it is given; names are expanded for it only when asked to.
  const resolver = options.resolver ?? (options.transport ? undefined : systemResolver);
  const asGiven: Endpoint[] = addresses.map((address) => ({ address }));
  const expand = resolver ? () => expandAddresses(addresses, resolver, log) : () => Promise.resolve(asGiven);
  const transport =
    options.transport ??
    createGrpcTransport(
      addresses[0]!,
      options.credentials ?? channelCredentials(options.tls ? { tls: options.tls } : {}),
      options.channelOptions,
      callMetadata(options.token === undefined ? {} : { token: options.token }),
    );
  return { addresses, rotation: new AddressRotation(expand, options.backoff, log), transport };
}
