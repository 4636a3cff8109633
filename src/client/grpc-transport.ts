import { credentials as grpcCredentials, Metadata, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { OrchestratorServiceClient } from "../gen/orchestrator/v1/orchestrator.js";
import type { ConnectCall, ConnectTransport } from "./types.js";

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

/** The real transport: one channel to the orchestrator, a Connect call per session, each with `metadata` (the token). */
export function createGrpcTransport(
  address: string,
  credentials: ChannelCredentials = grpcCredentials.createInsecure(),
  channelOptions: ChannelOptions = {},
  metadata: Metadata = new Metadata(),
): ConnectTransport {
  let client: OrchestratorServiceClient | undefined;
  return {
    open(): ConnectCall {
      // Created on first use so constructing an InstanceClient has no side effects.
      client ??= new OrchestratorServiceClient(address, credentials, { ...DEFAULT_CHANNEL_OPTIONS, ...channelOptions });
      return client.connect(metadata.clone());
    },
    close(): void {
      client?.close();
      client = undefined;
    },
  };
}
