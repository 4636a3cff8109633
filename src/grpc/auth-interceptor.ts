/**
 * The gRPC edge of the access policy: every call's metadata is checked before
 * its handler sees a message, so a refused call costs one hash and changes
 * nothing. A refusal ends the call with UNAUTHENTICATED or PERMISSION_DENIED
 * and a message naming the rule, and is reported (src/auth/refusals.ts).
 */
import { ServerInterceptingCall, type Metadata, type ServerInterceptor } from "@grpc/grpc-js";
import { accessOf, type AccessPolicy } from "../auth/access-policy.js";
import type { Refusals } from "../auth/refusals.js";

/** The `authorization` values of a call's metadata, as strings. */
export function authorizationOf(metadata: Metadata): string[] {
  return metadata.get("authorization").map((v) => (typeof v === "string" ? v : v.toString("utf8")));
}

export function authInterceptor(policy: AccessPolicy, refusals: Refusals): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, proceed) => {
            const verdict = policy.check(accessOf(method.path), authorizationOf(metadata));
            if (verdict.ok) {
              proceed(metadata);
              return;
            }
            refusals.report(call.getPeer(), method.path.split("/")[1] ?? "unknown", verdict.reason, verdict.message, { method: method.path });
            call.sendStatus({ code: verdict.code, details: verdict.message });
          },
        }),
    });
}
