import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { TlsFiles } from "../../src/auth/tls-files.js";
import { TestCertificates } from "../helpers/test-certificates.js";

describe("TLS files", () => {
  const certs = new TestCertificates();
  after(() => certs.remove());
  const first = certs.server("first");
  const second = certs.server("second");
  // The files the orchestrator is configured with; the test replaces them as cert-manager does.
  const live = { certFile: path.join(certs.dir, "live.pem"), keyFile: path.join(certs.dir, "live.key") };
  const install = (pair: { certFile: string; keyFile: string }) => {
    for (const [from, to] of [[pair.certFile, live.certFile], [pair.keyFile, live.keyFile]] as const) {
      copyFileSync(from, `${to}.tmp`);
      renameSync(`${to}.tmp`, to);
    }
  };

  test("a new pair is used once both files changed; identity listeners get it", async () => {
    install(first);
    const rejected: string[] = [];
    const files = new TlsFiles(live, { reloaded: () => undefined, rejected: (e) => rejected.push(e.message) });
    const seen: Buffer[] = [];
    files.addIdentityCertificateListener((update) => update && seen.push(update.certificate));
    await Promise.resolve();
    assert.equal(seen.length, 1, "a new listener gets the current pair");
    install(second);
    files.poll();
    assert.deepEqual(rejected, []);
    assert.equal(seen.length, 2);
    assert.ok(seen[1]!.equals(readFileSync(second.certFile)));
  });

  test("a key that is not the certificate's, or a garbled file, is refused and the pair in use stays", () => {
    install(first);
    const rejected: string[] = [];
    const files = new TlsFiles(live, { reloaded: () => undefined, rejected: (e) => rejected.push(e.message) });
    copyFileSync(second.keyFile, live.keyFile); // half a rotation: the new key next to the old certificate
    files.poll();
    assert.match(rejected[0] ?? "", /live\.key: is not the private key of the certificate in .*live\.pem/);
    assert.ok(files.set.cert.equals(readFileSync(first.certFile)));
    writeFileSync(live.certFile, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
    files.poll();
    assert.match(rejected[1] ?? "", /live\.pem: not a PEM certificate/);
    assert.ok(files.set.key.equals(readFileSync(first.keyFile)));
  });

  test("at start-up a missing or mismatched file is an error naming it", () => {
    assert.throws(() => new TlsFiles({ certFile: "/nonexistent/cert.pem", keyFile: live.keyFile }, { reloaded: () => undefined, rejected: () => undefined }), /\/nonexistent\/cert\.pem: cannot be read \(ENOENT\)/);
    assert.throws(() => new TlsFiles({ certFile: first.certFile, keyFile: second.keyFile }, { reloaded: () => undefined, rejected: () => undefined }), /is not the private key of the certificate/);
  });
});
