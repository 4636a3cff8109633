/**
 * Who may call what (README, "Security"). With no token configured every call
 * is open, as for local development. Once any is: health stays open (probes),
 * reflection too unless turned off, `Connect` needs an instance token, the
 * AdminService reads (Get*, List*, WatchEvents) a viewer or admin token, and
 * every other AdminService call an admin token.
 */
import { status } from "@grpc/grpc-js";
import type { Role } from "./credentials.js";
import type { TokenRegistry } from "./token-registry.js";

export type Access = "open" | "instance" | "read" | "write";

export interface Principal {
  role: Role | "anonymous";
  /** An instance token's bound id, or an admin or viewer token's label. */
  name?: string;
}

export type Verdict = { ok: true; principal: Principal } | { ok: false; code: status; reason: "missing" | "malformed" | "unknown" | "role"; message: string };

const OPEN_SERVICES = ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];
const READ_METHOD = /^(Get|List|Watch)[A-Z]/;

/** What a method needs, from its path (`/package.Service/Method`). */
export function accessOf(path: string): Access {
  const [, service = "", method = ""] = /^\/([^/]+)\/([^/]+)$/.exec(path) ?? [];
  if (OPEN_SERVICES.includes(service)) return "open";
  if (service === "orchestrator.v1.OrchestratorService") return "instance";
  if (service === "orchestrator.v1.AdminService" && READ_METHOD.test(method)) return "read";
  return "write";
}

const ALLOWED: Record<Exclude<Access, "open">, readonly Role[]> = {
  instance: ["instance"],
  read: ["viewer", "admin"],
  write: ["admin"],
};

const NEEDS: Record<Exclude<Access, "open">, string> = {
  instance: "an instance token",
  read: "a viewer or admin token",
  write: "an admin token",
};

export class AccessPolicy {
  constructor(private readonly tokens: TokenRegistry) {}

  /** Whether any token is configured (then only open calls go without one). */
  get enforcing(): boolean {
    return this.tokens.required;
  }

  /**
   * Decides a call needing `access`, given its `authorization` header values.
   * Messages name the rule and never echo what the client sent.
   */
  check(access: Access, authorization: readonly string[]): Verdict {
    if (!this.tokens.required) return { ok: true, principal: { role: "anonymous" } };
    if (access === "open") return { ok: true, principal: { role: "anonymous" } };
    if (authorization.length === 0) {
      return { ok: false, code: status.UNAUTHENTICATED, reason: "missing", message: `authorization: this call needs ${NEEDS[access]}, sent as "authorization: Bearer <token>"` };
    }
    const match = authorization.length === 1 ? /^Bearer ([^\s]+)$/i.exec(authorization[0]!.trim()) : null;
    if (!match) {
      return { ok: false, code: status.UNAUTHENTICATED, reason: "malformed", message: 'authorization: must be one "Bearer <token>" value' };
    }
    const credential = this.tokens.lookup(match[1]!);
    if (!credential) return { ok: false, code: status.UNAUTHENTICATED, reason: "unknown", message: "authorization: the token is not valid (unknown, or removed)" };
    if (!ALLOWED[access].includes(credential.role)) {
      return { ok: false, code: status.PERMISSION_DENIED, reason: "role", message: `authorization: a ${credential.role} token may not make this call; it needs ${NEEDS[access]}` };
    }
    return { ok: true, principal: { role: credential.role, ...(credential.name ? { name: credential.name } : {}) } };
  }
}
