/**
 * Who may read the HTTP shim: probes stay open, and the routes that show the
 * fleet (/status, /instances, /metrics) take the same bearer tokens as the
 * AdminService reads (viewer or admin) once any token is configured, unless
 * HTTP_STATUS_PUBLIC=true keeps them open (a Prometheus without a token).
 */
import { status } from "@grpc/grpc-js";
import type { AccessPolicy } from "../auth/access-policy.js";
import type { Refusals } from "../auth/refusals.js";
import type { HttpGuard } from "./http-server.js";

export function httpGuard(policy: AccessPolicy, refusals: Refusals, protectedPaths: readonly string[], statusPublic: boolean): HttpGuard {
  return (path, authorization, peer) => {
    if (statusPublic || !protectedPaths.includes(path)) return undefined;
    const verdict = policy.check("read", authorization === undefined ? [] : [authorization]);
    if (verdict.ok) return undefined;
    refusals.report(peer, "http", verdict.reason, verdict.message, { path });
    return { status: verdict.code === status.PERMISSION_DENIED ? 403 : 401, body: { error: verdict.message, path } };
  };
}
