/**
 * Warning before the TLS certificate in use expires. Rotation is someone
 * else's job (cert-manager, a cron job with certbot); the orchestrator rereads
 * the files when they change, but if the renewal stopped working, the first
 * sign would otherwise be every instance failing its handshake at once. So the
 * certificate's end is a metric (finger_tls_certificate_expiry_timestamp_seconds,
 * for an alert) and, from two weeks before it, a warning in the log at start-up,
 * after each reload and twice a day; an error once it has passed.
 * Certificate validity is wall-clock time, so this is read on the wall clock.
 */

/** From how long before the end the log warns. */
export const EXPIRY_WARNING_MS = 14 * 24 * 3_600_000;
/** How often the certificates in use are looked at again. */
export const EXPIRY_CHECK_EVERY_MS = 12 * 3_600_000;

export interface CertificateInUse {
  /** grpc or http */
  server: string;
  certFile: string;
  validTo: Date;
}

/** What to log about `cert` at `now`: nothing while it has more than two weeks left. */
export function expiryNotice(cert: CertificateInUse, now: number): { level: "warn" | "error"; message: string } | undefined {
  const left = cert.validTo.getTime() - now;
  const where = `the ${cert.server} server's TLS certificate (${cert.certFile})`;
  if (left <= 0) {
    return { level: "error", message: `${where} expired at ${cert.validTo.toISOString()}: clients refuse the handshake; put a renewed certificate and key in place (they are reread when the files change)` };
  }
  if (left > EXPIRY_WARNING_MS) return undefined;
  const days = left / (24 * 3_600_000);
  const count = (n: number, unit: string) => `in ${n} ${unit}${n === 1 ? "" : "s"}`;
  const when = days >= 1 ? count(Math.floor(days), "day") : count(Math.max(1, Math.floor(left / 3_600_000)), "hour");
  return { level: "warn", message: `${where} expires ${when}, at ${cert.validTo.toISOString()}; renew it (the files are reread when they change)` };
}
