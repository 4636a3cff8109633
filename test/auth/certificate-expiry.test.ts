import { test } from "node:test";
import assert from "node:assert/strict";
import { expiryNotice } from "../../src/auth/certificate-expiry.js";

const DAY = 24 * 3_600_000;
const now = Date.parse("2026-12-02T12:00:00Z");
const cert = (msLeft: number) => ({ server: "grpc", certFile: "/tls/cert.pem", validTo: new Date(now + msLeft) });

test("certificate expiry: silent with more than two weeks left, a warning within them, an error once past", () => {
  assert.equal(expiryNotice(cert(15 * DAY), now), undefined);
  assert.equal(expiryNotice(cert(14 * DAY + 1), now), undefined);
  assert.deepEqual(expiryNotice(cert(14 * DAY), now)?.level, "warn");
  assert.match(expiryNotice(cert(3 * DAY + 5_000), now)?.message ?? "", /^the grpc server's TLS certificate \(\/tls\/cert\.pem\) expires in 3 days, at 2026-12-05T12:00:05\.000Z; renew it/);
  assert.match(expiryNotice(cert(DAY + 1), now)?.message ?? "", /expires in 1 day, at/);
  assert.match(expiryNotice(cert(5 * 3_600_000 + 10), now)?.message ?? "", /expires in 5 hours/);
  assert.match(expiryNotice(cert(60_000), now)?.message ?? "", /expires in 1 hour,/);
  const past = expiryNotice(cert(0), now);
  assert.equal(past?.level, "error");
  assert.match(past?.message ?? "", /expired at 2026-12-02T12:00:00\.000Z: clients refuse the handshake/);
});
