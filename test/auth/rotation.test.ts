import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { copyFileSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { credentials } from "@grpc/grpc-js";
import { AuthProbe, httpGet, httpStatus } from "../helpers/auth-probe.js";
import { TestCertificates } from "../helpers/test-certificates.js";
import { startLoggedOrchestrator as startLogged } from "../helpers/logged-orchestrator.js";
import { pollUntil } from "../helpers/wait.js";

const OLD = "old-instance-token-0123456789";
const NEW = "new-instance-token-0123456789";
const ADMIN = "admin-token-for-rotation-0123";

/** Replaces `file` as a secret mount or cert-manager does: a new file renamed over the old. */
function replace(file: string, content: string | Buffer): void {
  writeFileSync(`${file}.next`, content);
  renameSync(`${file}.next`, file);
}

describe("rotation without a restart", () => {
  const certs = new TestCertificates();
  after(() => certs.remove());

  test("a token file: the new token works, the removed one stops working; no token is ever logged", async () => {
    const file = path.join(certs.dir, "instance-tokens");
    writeFileSync(file, `${OLD}\n`);
    const o = await startLogged({ INSTANCE_TOKENS_FILE: file, ADMIN_TOKENS: ADMIN });
    const probe = new AuthProbe(o.grpc, credentials.createInsecure());
    try {
      assert.equal(await probe.connect(OLD, "rotating_a"), "OK");
      assert.equal(await probe.connect(NEW, "rotating_b"), "UNAUTHENTICATED");
      replace(file, `${OLD}\n${NEW}\n`); // both valid while the fleet moves over
      assert.ok(await pollUntil(async () => (await probe.connect(NEW, "rotating_b")) === "OK", 5_000, 100), "the new token is accepted within seconds");
      assert.equal(await probe.connect(OLD, "rotating_a"), "OK");
      replace(file, `${NEW}\n`);
      assert.ok(await pollUntil(async () => (await probe.connect(OLD, "rotating_a")) === "UNAUTHENTICATED", 5_000, 100), "the removed token is refused");
      replace(file, "not a token\n");
      assert.ok(await pollUntil(() => /token file change rejected/.test(o.log()), 5_000, 100), "a broken file is reported");
      assert.equal(await probe.connect(NEW, "rotating_b"), "OK", "and the tokens from before stay valid");
      // Refusals of every kind, on gRPC and HTTP, then the whole log is searched.
      await probe.admin("/orchestrator.v1.AdminService/ListStreams", false, NEW);
      await probe.admin("/orchestrator.v1.AdminService/DeleteStreams", false, "guess-guess-guess-guess");
      await httpStatus(`${o.http}/status`, NEW);
      const metrics = await (await fetch(`${o.http}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
      assert.match(metrics, /finger_auth_failures_total\{service="orchestrator\.v1\.AdminService",reason="role"\} 1/);
      assert.match(metrics, /finger_credential_reloads_total\{kind="tokens",result="rejected"\} 1/);
      for (const token of [OLD, NEW, ADMIN, "guess-guess-guess-guess"]) {
        assert.ok(!o.log().includes(token), `the log never holds a token (${token.slice(0, 6)}...)`);
        assert.ok(!metrics.includes(token), "nor do the metrics");
      }
      assert.match(o.log(), /refused/);
    } finally {
      probe.close();
      await o.close();
    }
  });

  test("TLS files: clients that trust only the new CA get in once the new certificate is in place; a bad pair keeps the old one", async () => {
    const next = new TestCertificates("the next CA");
    try {
      const before = certs.server("rotating");
      const afterPair = next.server("rotating");
      const live = { cert: path.join(certs.dir, "live-cert.pem"), key: path.join(certs.dir, "live-key.pem") };
      copyFileSync(before.certFile, live.cert);
      copyFileSync(before.keyFile, live.key);
      const o = await startLogged({ TLS_CERT_FILE: live.cert, TLS_KEY_FILE: live.key, HTTP_TLS: "true" });
      const oldClient = () => new AuthProbe(o.grpc, credentials.createSsl(readFileSync(certs.caFile)));
      const newClient = () => new AuthProbe(o.grpc, credentials.createSsl(readFileSync(next.caFile)));
      const healthOf = async (make: () => AuthProbe) => {
        const probe = make();
        try {
          return await probe.health(undefined);
        } finally {
          probe.close();
        }
      };
      const expiryMetric = async (ca: string) => (await httpGet(`${o.http.replace("http:", "https:")}/metrics`, undefined, readFileSync(ca))).body;
      try {
        // The test certificates are valid for 2 days: the two-week warning is due at start-up, for both servers.
        assert.match(o.log(), /the grpc server's TLS certificate \(.*live-cert\.pem\) expires in 1 day, at /);
        assert.match(o.log(), /the http server's TLS certificate \(.*live-cert\.pem\) expires in 1 day, at /);
        const endOf = (file: string) => Math.floor(new Date(new X509Certificate(readFileSync(file)).validTo).getTime() / 1000);
        assert.match(await expiryMetric(certs.caFile), new RegExp(`finger_tls_certificate_expiry_timestamp_seconds\\{server="grpc"\\} ${endOf(before.certFile)}`));
        assert.equal(await healthOf(oldClient), "OK");
        assert.equal(await healthOf(newClient), "UNAVAILABLE");
        // Half a rotation (the new key beside the old certificate): refused, the old pair stays.
        replace(live.key, readFileSync(afterPair.keyFile));
        assert.ok(await pollUntil(() => /TLS file change rejected/.test(o.log()), 5_000, 100));
        assert.equal(await healthOf(oldClient), "OK");
        replace(live.cert, readFileSync(afterPair.certFile));
        assert.ok(await pollUntil(async () => (await healthOf(newClient)) === "OK", 5_000, 200), "new connections get the new certificate");
        assert.equal(await healthOf(oldClient), "UNAVAILABLE");
        assert.equal(await httpStatus(`${o.http.replace("http:", "https:")}/healthz`, undefined, readFileSync(next.caFile)), 200, "and so does the HTTP shim");
        assert.match(await expiryMetric(next.caFile), new RegExp(`finger_tls_certificate_expiry_timestamp_seconds\\{server="http"\\} ${endOf(afterPair.certFile)}`), "the metric follows the certificate in use");
      } finally {
        await o.close();
      }
    } finally {
      next.remove();
    }
  });
});
