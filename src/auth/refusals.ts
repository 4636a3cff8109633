/**
 * Every refusal of a call or request for its credentials, from the gRPC
 * interceptor, a Connect session's hello and the HTTP shim: counted
 * (finger_auth_failures_total{service,reason}) and logged at most once a
 * minute per peer address, so that a misconfigured fleet retrying with a
 * stale token cannot flood the log. Nothing logged holds a token.
 */
import type { Logger } from "../log/logger.js";

const LOG_EVERY_MS = 60_000;
/** Peers remembered at most; past it, those not logged within the minute are forgotten. */
const MAX_PEERS = 10_000;

export type RefusalReason = "missing" | "malformed" | "unknown" | "role" | "identity";

export class Refusals {
  private readonly lastLogged = new Map<string, number>();

  constructor(
    private readonly count: (service: string, reason: RefusalReason) => void,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `peer` as grpc-js or Node gives it (host:port, the port ignored). */
  report(peer: string, service: string, reason: RefusalReason, message: string, detail: Record<string, unknown> = {}): void {
    this.count(service, reason);
    const host = peer.replace(/:\d+$/, "");
    const now = this.now();
    const last = this.lastLogged.get(host);
    if (last !== undefined && now - last < LOG_EVERY_MS) return;
    if (last === undefined && this.lastLogged.size >= MAX_PEERS) {
      for (const [h, at] of this.lastLogged) if (now - at >= LOG_EVERY_MS) this.lastLogged.delete(h);
      // Every remembered peer was logged within the minute: a new one is only counted, so the
      // map (and each sweep) stays bounded however many addresses refusals come from.
      if (this.lastLogged.size >= MAX_PEERS) return;
    }
    this.lastLogged.set(host, now);
    this.logger.warn({ peer, service, reason, ...detail }, "refused: %s (further refusals of this peer within a minute are only counted)", message);
  }
}
