/**
 * The instance-side client of the orchestrator: embed an {@link InstanceClient}, give it
 * start/stop handlers, call `start()`, and `close()` on shutdown.
 */
export { InstanceClient } from "./instance-client.js";
export { AssignmentApplier, planAssignment, type ApplierHandlers, type ApplyResult, type AssignmentPlan } from "./assignment-applier.js";
export { Backoff, backoffCeiling, fullJitterDelay, resolveBackoff, DEFAULT_BACKOFF, type ResolvedBackoff } from "./backoff.js";
export { classifyDisconnect, type DisconnectAction, type SessionOutcome } from "./disconnect-policy.js";
export { createGrpcTransport, DEFAULT_CHANNEL_OPTIONS, endpointChannelOptions } from "./grpc-transport.js";
export { joinHostPort, parseAddresses, splitHostPort, type HostPort } from "./orchestrator-addresses.js";
export { systemResolver, type HostResolver } from "./address-resolver.js";
export { stopOnSignals, type SignalSource, type StopOnSignalsOptions } from "./stop-on-signals.js";
export { callMetadata, channelCredentials, parseOrchestratorUrl, securityFromEnv, type ClientTls, type ConnectionSecurity } from "./connection-security.js";
export type {
  AssignmentEvent,
  BackoffOptions,
  ConnectCall,
  ConnectTransport,
  DisconnectedEvent,
  Endpoint,
  EpochChangeHandler,
  InstanceClientEvents,
  InstanceClientOptions,
  InstanceMetrics,
  RunningStream,
  StartHandler,
  StopHandler,
  StopReason,
  SupersededPolicy,
  WelcomeEvent,
} from "./types.js";
