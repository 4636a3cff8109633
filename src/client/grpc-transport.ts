import { credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
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
};

/** The real transport: one channel to the orchestrator, a Connect call per session. */
export function createGrpcTransport(
  address: string,
  credentials: ChannelCredentials = grpcCredentials.createInsecure(),
  channelOptions: ChannelOptions = {},
): ConnectTransport {
  let client: OrchestratorServiceClient | undefined;
  return {
    open(): ConnectCall {
      // Created on first use so constructing an InstanceClient has no side effects.
      client ??= new OrchestratorServiceClient(address, credentials, { ...DEFAULT_CHANNEL_OPTIONS, ...channelOptions });
      return client.connect();
    },
    close(): void {
      client?.close();
      client = undefined;
    },
  };
}
