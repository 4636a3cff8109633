import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { status } from "@grpc/grpc-js";
import { CredentialError, parseCredentials, variableEntries } from "../../src/auth/credentials.js";
import { TokenRegistry } from "../../src/auth/token-registry.js";
import { AccessPolicy, accessOf } from "../../src/auth/access-policy.js";

const INSTANCE = "instance-token-aaaaaaaaaaaa";
const BOUND = "bound-token-bbbbbbbbbbbbbbbb";
const VIEWER = "viewer-token-cccccccccccc";
const ADMIN = "admin-token-dddddddddddddd";

describe("token lists", () => {
  test("bare and named entries; base64 padding is not a name", () => {
    const parsed = parseCredentials("instance", variableEntries("INSTANCE_TOKENS", `${INSTANCE}, finger_app_1=${BOUND},QUJDREVGR0hJSktMTU5PUA==`));
    assert.deepEqual(parsed.map((c) => c.name), [undefined, "finger_app_1", undefined]);
  });

  test("a short token or one with spaces is refused, naming where it is and not what it is", () => {
    assert.throws(() => parseCredentials("admin", variableEntries("ADMIN_TOKENS", `${ADMIN},short`)), (e: Error) => e instanceof CredentialError && /ADMIN_TOKENS \(entry 2\): a token must be 16 to 512/.test(e.message) && !e.message.includes("short"));
    assert.throws(() => parseCredentials("admin", variableEntries("ADMIN_TOKENS", "has a space in it somewhere")), /may hold only letters/);
  });
});

describe("the access policy", () => {
  const registry = new TokenRegistry({ instanceTokens: `${INSTANCE},finger_app_1=${BOUND}`, viewerTokens: VIEWER, adminTokens: ADMIN });
  const policy = new AccessPolicy(registry);
  const bearer = (t: string) => [`Bearer ${t}`];

  test("methods are classed by service and name", () => {
    assert.equal(accessOf("/grpc.health.v1.Health/Check"), "open");
    assert.equal(accessOf("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"), "open");
    assert.equal(accessOf("/orchestrator.v1.OrchestratorService/Connect"), "instance");
    assert.equal(accessOf("/orchestrator.v1.AdminService/ListStreams"), "read");
    assert.equal(accessOf("/orchestrator.v1.AdminService/WatchEvents"), "read");
    assert.equal(accessOf("/orchestrator.v1.AdminService/DeleteStreams"), "write");
    assert.equal(accessOf("/orchestrator.v1.AdminService/Getaway"), "write", "a read is Get followed by a capital");
  });

  test("each role on each kind of call", () => {
    const cases: Array<[string[], "instance" | "read" | "write", status | "ok"]> = [
      [[], "instance", status.UNAUTHENTICATED],
      [bearer("not-a-known-token-at-all"), "read", status.UNAUTHENTICATED],
      [[`Basic ${ADMIN}`], "write", status.UNAUTHENTICATED],
      [[...bearer(ADMIN), ...bearer(ADMIN)], "write", status.UNAUTHENTICATED],
      [bearer(INSTANCE), "instance", "ok"],
      [bearer(INSTANCE), "read", status.PERMISSION_DENIED],
      [bearer(VIEWER), "instance", status.PERMISSION_DENIED],
      [bearer(VIEWER), "read", "ok"],
      [bearer(VIEWER), "write", status.PERMISSION_DENIED],
      [bearer(ADMIN), "read", "ok"],
      [bearer(ADMIN), "write", "ok"],
      [bearer(ADMIN), "instance", status.PERMISSION_DENIED],
    ];
    for (const [authorization, access, expected] of cases) {
      const verdict = policy.check(access, authorization);
      const got = verdict.ok ? "ok" : verdict.code;
      assert.equal(got, expected, `${authorization.join(",") || "none"} on ${access}`);
      if (!verdict.ok) for (const token of [INSTANCE, VIEWER, ADMIN]) assert.ok(!verdict.message.includes(token), "never echoes a token");
    }
    const bound = policy.check("instance", bearer(BOUND));
    assert.deepEqual(bound.ok && bound.principal, { role: "instance", name: "finger_app_1" });
  });

  test("with no token configured everything is open", () => {
    const open = new AccessPolicy(new TokenRegistry({}));
    assert.equal(open.enforcing, false);
    assert.equal(open.check("write", []).ok, true);
  });
});

describe("token files", () => {
  test("are reread when they change; a broken file keeps the tokens it had, and is reported", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "finger-tokens-"));
    try {
      const file = path.join(dir, "instance-tokens");
      writeFileSync(file, `# the fleet's tokens\n${INSTANCE}\n`);
      const errors: string[] = [];
      const registry = new TokenRegistry({ instanceTokensFile: file }, (_, e) => errors.push(e.message));
      assert.ok(registry.lookup(INSTANCE));
      assert.equal(registry.lookup(BOUND), undefined);

      // Rotation as a secret mount does it: a new file renamed over the old one.
      writeFileSync(`${file}.new`, `${INSTANCE}\nfinger_app_1=${BOUND}\n`);
      renameSync(`${file}.new`, file);
      registry.poll();
      assert.equal(registry.lookup(BOUND)?.name, "finger_app_1");

      writeFileSync(`${file}.new`, "too-short\n");
      renameSync(`${file}.new`, file);
      registry.poll();
      assert.match(errors.join("\n"), /instance-tokens:1: a token must be/);
      assert.ok(registry.lookup(BOUND), "the tokens from before the broken version stay valid");

      writeFileSync(`${file}.new`, `${BOUND}\n`);
      renameSync(`${file}.new`, file);
      registry.poll();
      assert.equal(registry.lookup(INSTANCE), undefined, "a token removed from the file is no longer valid");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a token file that cannot be read stops start-up, naming the file", () => {
    assert.throws(() => new TokenRegistry({ adminTokensFile: "/nonexistent/admin-tokens" }), /\/nonexistent\/admin-tokens: cannot be read \(ENOENT\)/);
  });
});
