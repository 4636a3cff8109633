import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { readFileSync } from "node:fs";
import { credentials } from "@grpc/grpc-js";
import { AuthProbe, httpStatus } from "../helpers/auth-probe.js";
import { startLoggedOrchestrator } from "../helpers/logged-orchestrator.js";
import { TestCertificates } from "../helpers/test-certificates.js";

const WARNING = /with no tokens, in plaintext: anyone who reaches the ports can connect as any instance/;

describe("security at start-up", { concurrency: true }, () => {
  test("bound beyond loopback with no token: one warning saying what is exposed; with tokens, or on loopback, none", async () => {
    for (const [env, warned] of [
      [{ BIND_HOST: "0.0.0.0" }, true],
      [{ BIND_HOST: "0.0.0.0", INSTANCE_TOKENS: "a-token-long-enough-0123", ADMIN_TOKENS: "another-token-long-enough-0123" }, false],
      [{ BIND_HOST: "127.0.0.1" }, false],
    ] as const) {
      const o = await startLoggedOrchestrator(env);
      try {
        const warnings = o.log().split("\n").filter((l) => WARNING.test(l));
        assert.equal(warnings.length, warned ? 1 : 0, `${JSON.stringify(env)}: ${warnings.join("\n")}`);
        assert.match(o.log(), /"msg":"security"/, "the start-up log says how each server is protected");
      } finally {
        await o.close();
      }
    }
  });

  test("a token file or TLS pair that cannot be used stops start-up with a message naming it", async () => {
    const certs = new TestCertificates();
    try {
      const tokens = path.join(certs.dir, "admin-tokens");
      writeFileSync(tokens, "short\n");
      const a = certs.server("a");
      const b = certs.server("b");
      for (const [env, message] of [
        [{ ADMIN_TOKENS_FILE: tokens }, /admin-tokens:1: a token must be 16 to 512 characters/],
        [{ ADMIN_TOKENS_FILE: path.join(certs.dir, "missing") }, /missing: cannot be read \(ENOENT\)/],
        [{ TLS_CERT_FILE: a.certFile, TLS_KEY_FILE: b.keyFile }, /is not the private key of the certificate/],
      ] as const) {
        await assert.rejects(startLoggedOrchestrator(env), (e: Error) => e.name === "StartupError" && message.test(e.message), JSON.stringify(env));
      }
    } finally {
      certs.remove();
    }
  });

  test("the HTTP shim on TLS with files of its own, gRPC staying on plaintext", async () => {
    const certs = new TestCertificates();
    const own = certs.server("http-only");
    const o = await startLoggedOrchestrator({ HTTP_TLS_CERT_FILE: own.certFile, HTTP_TLS_KEY_FILE: own.keyFile });
    try {
      assert.equal(await httpStatus(`${o.http.replace("http:", "https:").replace("127.0.0.1", "localhost")}/healthz`, undefined, readFileSync(certs.caFile)), 200);
      const probe = new AuthProbe(o.grpc, credentials.createInsecure());
      assert.equal(await probe.health(undefined), "OK");
      probe.close();
    } finally {
      await o.close();
      certs.remove();
    }
  });
});
