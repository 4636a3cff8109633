/**
 * Everything the orchestrator needs to decide who gets in, built once from
 * the configuration at start-up (a bad token list or TLS file stops start-up
 * with one line naming it): the token registry and the access policy, the TLS
 * files of both servers, and what an instance's session may claim to be.
 */
import { ServerCredentials, experimental } from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import type { SecurityConfig } from "../config/security-config.js";
import type { Logger } from "../log/logger.js";
import { AccessPolicy, type Principal } from "./access-policy.js";
import { TokenRegistry } from "./token-registry.js";
import { EXPIRY_CHECK_EVERY_MS, expiryNotice, type CertificateInUse } from "./certificate-expiry.js";
import { TlsFiles } from "./tls-files.js";
import { Refusals, type RefusalReason } from "./refusals.js";

export interface SecurityEvents {
  credentialsReloaded(kind: "tls" | "tokens", applied: boolean): void;
  /** Counts a refusal (finger_auth_failures_total{service,reason}). */
  count(service: string, reason: RefusalReason): void;
}

/** The names a client certificate carries: its subject CN and its DNS and URI alternative names. */
export function certificateNames(certificate: PeerCertificate | undefined): string[] {
  if (!certificate || Object.keys(certificate).length === 0) return [];
  const names = certificate.subject?.CN ? [certificate.subject.CN].flat() : [];
  for (const entry of (certificate.subjectaltname ?? "").split(/,\s*/)) {
    const match = /^(DNS|URI):(.+)$/.exec(entry.trim());
    if (match) names.push(match[2]!);
  }
  return [...new Set(names)];
}

/** Why a session's hello for `instanceId` is refused, if it is: its token or certificate names another instance. */
export function identityRefusal(instanceId: string, principal: Principal, certificate: string[] | undefined): string | undefined {
  if (principal.role === "instance" && principal.name !== undefined && principal.name !== instanceId) {
    return `hello.instance_id: this token is bound to instance ${principal.name}`;
  }
  if (certificate !== undefined && !certificate.includes(instanceId)) {
    return `hello.instance_id: the client certificate names ${certificate.length ? certificate.join(", ") : "no instance"}, not ${instanceId}`;
  }
  return undefined;
}

export class Security {
  readonly tokens: TokenRegistry;
  readonly policy: AccessPolicy;
  readonly grpcTls: TlsFiles | undefined;
  readonly httpTls: TlsFiles | undefined;
  readonly refusals: Refusals;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly config: SecurityConfig,
    private readonly logger: Logger,
    private readonly events: SecurityEvents,
  ) {
    this.tokens = new TokenRegistry(
      config.tokens,
      (file, error) => {
        events.credentialsReloaded("tokens", false);
        logger.error({ file }, "token file change rejected, the tokens from before stay valid: %s", error.message);
      },
      (file, count) => {
        events.credentialsReloaded("tokens", true);
        logger.info({ file, tokens: count }, "token file reloaded");
      },
    );
    this.policy = new AccessPolicy(this.tokens);
    this.refusals = new Refusals((service, reason) => events.count(service, reason), logger);
    this.grpcTls = config.grpcTls ? this.tlsFiles(config.grpcTls, "grpc") : undefined;
    const sameFiles = config.httpTls && config.grpcTls && config.httpTls.certFile === config.grpcTls.certFile && config.httpTls.keyFile === config.grpcTls.keyFile;
    this.httpTls = config.httpTls ? (sameFiles ? this.grpcTls : this.tlsFiles(config.httpTls, "http")) : undefined;
  }

  private tlsFiles(names: ConstructorParameters<typeof TlsFiles>[0], server: string): TlsFiles {
    return new TlsFiles(names, {
      reloaded: (set) => {
        this.events.credentialsReloaded("tls", true);
        this.logger.info({ server, certFile: names.certFile, validTo: set.validTo }, "TLS certificate reloaded");
        this.checkExpiry();
      },
      rejected: (error) => {
        this.events.credentialsReloaded("tls", false);
        this.logger.error({ server }, "TLS file change rejected, the certificate in use stays: %s", error.message);
      },
    });
  }

  /** Plaintext, TLS, or mutual TLS (client certificates required and checked against the CA). */
  grpcCredentials(): ServerCredentials {
    const tls = this.grpcTls;
    if (!tls) return ServerCredentials.createInsecure();
    return experimental.createCertificateProviderServerCredentials(tls, tls.mutual ? tls : null, tls.mutual);
  }

  /** The names a Connect session's certificate allows it to claim; undefined when certificates do not bind ids (no mutual TLS). */
  certificateBinding(certificate: PeerCertificate | undefined): string[] | undefined {
    return this.grpcTls?.mutual ? certificateNames(certificate) : undefined;
  }

  start(): void {
    this.tokens.start();
    this.grpcTls?.start();
    if (this.httpTls !== this.grpcTls) this.httpTls?.start();
    if (this.certificates().length) {
      this.checkExpiry();
      this.expiryTimer = setInterval(() => this.checkExpiry(), EXPIRY_CHECK_EVERY_MS).unref();
    }
  }

  /** The certificates the servers present now (one entry per server, the same files or not). */
  certificates(): CertificateInUse[] {
    const inUse = (server: string, tls: TlsFiles | undefined): CertificateInUse[] =>
      tls ? [{ server, certFile: tls.names.certFile, validTo: new Date(tls.set.validTo) }] : [];
    return [...inUse("grpc", this.grpcTls), ...inUse("http", this.httpTls)];
  }

  /** Logs a warning for each certificate in use that expires within two weeks, an error for one that has expired. */
  checkExpiry(now = Date.now()): void {
    for (const cert of this.certificates()) {
      const notice = expiryNotice(cert, now);
      if (notice) this.logger[notice.level]({ server: cert.server, certFile: cert.certFile, validTo: cert.validTo.toISOString() }, notice.message);
    }
  }

  stop(): void {
    clearInterval(this.expiryTimer);
    this.tokens.stop();
    this.grpcTls?.stop();
    this.httpTls?.stop();
  }

  /** One line at start-up: how each server is protected, and a warning when anyone who reaches it gets everything. */
  describe(bindHost: string): { warning?: string; summary: Record<string, unknown> } {
    const loopback = /^(127\.|::1$|localhost$)/.test(bindHost);
    const summary = {
      grpc: this.grpcTls ? (this.grpcTls.mutual ? "mutual TLS" : "TLS") : "plaintext",
      http: this.httpTls ? "TLS" : "plaintext",
      tokens: this.tokens.required ? this.tokens.counts() : "none (every call is open)",
      reflection: this.config.reflection,
      httpStatusPublic: this.config.httpStatusPublic,
    };
    if (loopback || this.tokens.required || this.grpcTls?.mutual) return { summary };
    const what = this.grpcTls ? "" : ", in plaintext";
    return {
      summary,
      warning: `listening on ${bindHost} with no tokens${what}: anyone who reaches the ports can connect as any instance and make every admin call (delete streams, drain instances); set INSTANCE_TOKENS and ADMIN_TOKENS (README, "Security")`,
    };
  }
}
