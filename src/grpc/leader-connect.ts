import type { ServerDuplexStream } from "@grpc/grpc-js";
import type { Security } from "../auth/security.js";
import type { Config } from "../config/config.js";
import type { Coordinator } from "../coordinator/coordinator.js";
import type { ConnectRequest } from "../gen/orchestrator/v1/orchestrator.js";
import type { Logger } from "../log/logger.js";
import type { OrchestratorMetrics } from "../metrics/metrics.js";
import { InstanceSession, type SessionOptions } from "./instance-session.js";
import { SessionAdmission } from "./session-admission.js";

/** The Connect handler of the leader: every call becomes a session of `coordinator`, under the configured limits. */
export function leaderConnect(
  coordinator: Coordinator,
  config: Config,
  security: Security,
  metrics: OrchestratorMetrics,
  logger: Logger,
): { connect: (call: ServerDuplexStream<ConnectRequest, Buffer>) => void } {
  const sessions: SessionOptions = {
    helloTimeoutMs: config.helloTimeoutMs,
    queueLimitBytes: config.sessionQueueLimitBytes,
    logger,
    queueOverflowed: () => metrics.sessionQueueOverflowed(),
    security,
    admission: new SessionAdmission({ maxSessions: config.maxSessions, maxSessionsPerConnection: config.maxSessionsPerConnection }),
    messageRate: { perSecond: config.sessionMessagesPerSecond, burst: config.sessionMessageBurst },
  };
  return { connect: (call) => void new InstanceSession(call, coordinator, sessions) };
}
