import { credentials as grpcCredentials, Metadata, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { OrchestratorServiceClient } from "../gen/orchestrator/v1/orchestrator.js";
import { endpointKey } from "./address-resolver.js";
import { joinHostPort, splitHostPort } from "./orchestrator-addresses.js";
import type { ConnectCall, ConnectTransport, Endpoint } from "./types.js";

/**
 * Keepalive pings notice a silently dead connection (NAT timeout, VPN drop) that would
 * otherwise look connected until TCP gives up minutes later. The server allows a ping every
 * 10 s, so 15 s stays clear of its too-many-pings limit.
 */
export const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.keepalive_time_ms": 15_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.keepalive_permit_without_calls": 1,
  // A connection of its own: grpc-js would otherwise share one among every client of a process
  // with the same target, and the orchestrator admits only a few sessions per connection
  // (MAX_SESSIONS_PER_CONNECTION); a broken connection then also breaks only this instance.
  "grpc.use_local_subchannel_pool": 1,
  // grpc-js keeps its own reconnect backoff under ours (1 s growing to 120 s): a channel still
  // waiting out its own would fail our retries at once after the network came back.
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 1_000,
};

/**
 * The channel options that dial one record of a host name as if dialling the name: TLS checks
 * the certificate against the name (and sends it as SNI), and the calls' authority names it.
 */
export function endpointChannelOptions(endpoint: Endpoint): ChannelOptions {
  if (endpoint.serverName === undefined) return {};
  const port = splitHostPort(endpoint.address)?.port;
  return {
    "grpc.ssl_target_name_override": endpoint.serverName,
    "grpc.default_authority": port === undefined ? endpoint.serverName : joinHostPort(endpoint.serverName, port),
  };
}

/**
 * The real transport: a channel to the endpoint of the call being opened, a Connect call per
 * session, each with `metadata` (the token). One channel at a time: moving to another endpoint
 * closes the previous one, so a client keeps one connection, as with a single address.
 */
export function createGrpcTransport(
  address: string,
  credentials: ChannelCredentials = grpcCredentials.createInsecure(),
  channelOptions: ChannelOptions = {},
  metadata: Metadata = new Metadata(),
): ConnectTransport {
  let channel: { key: string; client: OrchestratorServiceClient } | undefined;
  return {
    open(endpoint: Endpoint = { address }): ConnectCall {
      const key = endpointKey(endpoint);
      if (channel?.key !== key) {
        channel?.client.close();
        // Created on first use so constructing an InstanceClient has no side effects. The caller's options win.
        const options = { ...DEFAULT_CHANNEL_OPTIONS, ...endpointChannelOptions(endpoint), ...channelOptions };
        channel = { key, client: new OrchestratorServiceClient(endpoint.address, credentials, options) };
      }
      return channel.client.connect(metadata.clone());
    },
    close(): void {
      channel?.client.close();
      channel = undefined;
    },
  };
}
