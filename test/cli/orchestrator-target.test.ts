import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describeTarget, parseTargetUrl, resolveTarget, tokenOf } from "../../src/cli/orchestrator-target.js";

describe("resolveTarget", () => {
  test("prefers the flag, then ORCHESTRATOR_URL, then ORCHESTRATOR_ADDRESS, then 127.0.0.1 on GRPC_PORT", () => {
    const env = { ORCHESTRATOR_URL: "grpcs://orch.example", ORCHESTRATOR_ADDRESS: "orch.example:6000", GRPC_PORT: "6001" };
    assert.deepEqual(resolveTarget(" h:1 ", env), { address: "h:1", security: {} });
    assert.deepEqual(resolveTarget(undefined, env), { address: "orch.example:443", security: { tls: true } });
    assert.deepEqual(resolveTarget(undefined, { ...env, ORCHESTRATOR_URL: " " }).address, "orch.example:6000");
    assert.equal(resolveTarget(undefined, { GRPC_PORT: "6001" }).address, "127.0.0.1:6001");
    assert.equal(resolveTarget(undefined, {}).address, "127.0.0.1:50051");
  });

  test("takes every URL form: a TLS scheme turns TLS on, the port defaults to 443 with TLS and 50051 without", () => {
    const cases: Array<[string, string, boolean]> = [
      ["orch.example:7000", "orch.example:7000", false],
      ["grpc://orch.example", "orch.example:50051", false],
      ["http://orch.example:7000/", "orch.example:7000", false],
      ["grpcs://orch.example:7443", "orch.example:7443", true],
      ["https://orch.example", "orch.example:443", true],
      ["[::1]:7000", "[::1]:7000", false],
    ];
    for (const [url, address, tls] of cases) assert.deepEqual(parseTargetUrl(url, "--address"), { address, tls }, url);
  });

  test("a bad address names the flag or the variable it came from", () => {
    assert.throws(() => resolveTarget("", {}), { name: "TargetError", message: /^--address must be host:port, or grpcs:\/\// });
    assert.throws(() => resolveTarget("ftp://orch.example", {}), { message: /^--address must be .*, got "ftp:\/\/orch\.example"$/ });
    assert.throws(() => resolveTarget("orch example:1", {}), { message: /^--address must be / });
    assert.throws(() => resolveTarget(undefined, { ORCHESTRATOR_URL: "https://orch/a/b" }), { message: /^ORCHESTRATOR_URL must be / });
  });

  test("reads the token and the TLS files; a CA file alone turns TLS on", (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "orchestrator-target-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ca = path.join(dir, "ca.pem");
    writeFileSync(ca, "not checked here");
    const target = resolveTarget("orch.example:7000", { ORCHESTRATOR_TOKEN: " t0ken ", ORCHESTRATOR_CA_FILE: ca });
    assert.deepEqual(target, { address: "orch.example:7000", security: { token: "t0ken", tls: { ca: Buffer.from("not checked here") } } });
    assert.equal(describeTarget(target), "orch.example:7000 (TLS)");
    assert.equal(describeTarget(resolveTarget("orch.example:7000", {})), "orch.example:7000");
    assert.throws(() => resolveTarget("h:1", { ORCHESTRATOR_CA_FILE: path.join(dir, "missing.pem") }), {
      name: "TargetError",
      message: /^ORCHESTRATOR_CA_FILE=.*missing\.pem: cannot be read \(ENOENT\)$/,
    });
    assert.throws(() => resolveTarget("h:1", { ORCHESTRATOR_TOKEN: "two words" }), { name: "TargetError", message: /^ORCHESTRATOR_TOKEN: may hold only/ });
  });

  test("tokenOf reads a second token variable and names it when it is malformed", () => {
    assert.equal(tokenOf({ ORCHESTRATOR_ADMIN_TOKEN: " a-b_c " }, "ORCHESTRATOR_ADMIN_TOKEN"), "a-b_c");
    assert.equal(tokenOf({ ORCHESTRATOR_ADMIN_TOKEN: "" }, "ORCHESTRATOR_ADMIN_TOKEN"), undefined);
    assert.throws(() => tokenOf({ ORCHESTRATOR_ADMIN_TOKEN: "a\nb" }, "ORCHESTRATOR_ADMIN_TOKEN"), { message: /^ORCHESTRATOR_ADMIN_TOKEN: may hold only/ });
  });
});
