import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { credentials, type ChannelCredentials } from "@grpc/grpc-js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { ADMIN_METHODS, AuthProbe, httpStatus, type Outcome } from "../helpers/auth-probe.js";
import { TestCertificates } from "../helpers/test-certificates.js";
import { accessOf } from "../../src/auth/access-policy.js";

const TOKENS = {
  instance: "instance-token-0123456789abcdef",
  viewer: "viewer-token-0123456789abcdef",
  admin: "admin-token-0123456789abcdef",
  wrong: "wrong-token-0123456789abcdef",
} as const;
type Holder = "none" | keyof typeof TOKENS;
const HOLDERS: Holder[] = ["none", "wrong", "instance", "viewer", "admin"];
const tokenOf = (h: Holder) => (h === "none" ? undefined : TOKENS[h]);
const ENV = { INSTANCE_TOKENS: TOKENS.instance, VIEWER_TOKENS: TOKENS.viewer, ADMIN_TOKENS: TOKENS.admin };

/** Got through to its handler: whatever the handler then said about an empty request. */
const through = (o: Outcome) => o !== "UNAUTHENTICATED" && o !== "PERMISSION_DENIED";

function expected(kind: "instance" | "read" | "write", holder: Holder): "through" | Outcome {
  if (holder === "none" || holder === "wrong") return "UNAUTHENTICATED";
  const allowed = { instance: ["instance"], read: ["viewer", "admin"], write: ["admin"] }[kind];
  return allowed.includes(holder) ? "through" : "PERMISSION_DENIED";
}

/** Every row of the matrix against one orchestrator, reached with `channel` (and `ca` for HTTPS). */
async function checkMatrix(orchestrator: TestOrchestrator, channel: ChannelCredentials, httpBase: string, ca?: Buffer, instanceId?: string): Promise<void> {
  const probe = new AuthProbe(orchestrator.grpcAddress, channel);
  try {
    for (const holder of HOLDERS) {
      const token = tokenOf(holder);
      const rows: Array<[string, Outcome, "through" | Outcome]> = [];
      rows.push(["Connect", await probe.connect(token, instanceId ?? `probe_${holder}`), expected("instance", holder)]);
      for (const method of ADMIN_METHODS) {
        const kind = accessOf(method.path) as "read" | "write";
        rows.push([method.path, await probe.admin(method.path, method.streaming, token), expected(kind, holder)]);
      }
      rows.push(["health", await probe.health(token), "OK"]);
      rows.push(["reflection", await probe.reflection(token), "OK"]);
      for (const [what, got, want] of rows) {
        if (want === "through") assert.ok(through(got), `${holder} token on ${what}: got ${got}, expected to get through`);
        else assert.equal(got, want, `${holder} token on ${what}`);
      }
      const fleetStatus = holder === "viewer" || holder === "admin" ? 200 : holder === "instance" ? 403 : 401;
      for (const path of ["/status", "/instances", "/metrics"]) assert.equal(await httpStatus(`${httpBase}${path}`, token, ca), fleetStatus, `${holder} token on GET ${path}`);
      for (const path of ["/healthz", "/readyz", "/health"]) assert.equal(await httpStatus(`${httpBase}${path}`, token, ca), 200, `${holder} token on GET ${path}`);
    }
  } finally {
    probe.close();
  }
}

describe("who gets in: every token on every call", { concurrency: true }, () => {
  const certs = new TestCertificates();
  const server = certs.server();
  const ca = readFileSync(certs.caFile);
  after(() => certs.remove());

  test("plaintext with tokens", async () => {
    const orchestrator = await startTestOrchestrator(ENV);
    try {
      await checkMatrix(orchestrator, credentials.createInsecure(), orchestrator.httpBase);
    } finally {
      await orchestrator.close();
    }
  });

  test("TLS (gRPC and HTTP) with tokens; a plaintext client does not get in", async () => {
    const orchestrator = await startTestOrchestrator({ ...ENV, TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: server.keyFile, HTTP_TLS: "true" });
    try {
      await checkMatrix(orchestrator, credentials.createSsl(ca), orchestrator.httpBase.replace("http:", "https:"), ca);
      const plain = new AuthProbe(orchestrator.grpcAddress, credentials.createInsecure());
      assert.equal(await plain.health(undefined), "UNAVAILABLE");
      plain.close();
    } finally {
      await orchestrator.close();
    }
  });

  describe("mutual TLS with tokens", () => {
    let orchestrator: TestOrchestrator;
    const client = certs.client("finger_app_1");
    const channel = () => credentials.createSsl(ca, readFileSync(client.keyFile), readFileSync(client.certFile));
    before(async () => {
      orchestrator = await startTestOrchestrator({ ...ENV, TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: server.keyFile, TLS_CLIENT_CA_FILE: certs.caFile });
    });
    after(() => orchestrator.close());

    test("every token on every call, with a client certificate", async () => {
      await checkMatrix(orchestrator, channel(), orchestrator.httpBase, undefined, "finger_app_1");
    });

    test("a client certificate carrying the instance's id may connect as that instance only", async () => {
      const probe = new AuthProbe(orchestrator.grpcAddress, channel());
      try {
        assert.equal(await probe.connect(TOKENS.instance, "finger_app_1"), "OK");
        assert.equal(await probe.connect(TOKENS.instance, "finger_app_2"), "PERMISSION_DENIED");
        for (const holder of HOLDERS) assert.equal(await probe.health(tokenOf(holder)), "OK");
        assert.ok(through(await probe.admin("/orchestrator.v1.AdminService/ListStreams", false, TOKENS.viewer)));
        assert.equal(await probe.admin("/orchestrator.v1.AdminService/ListStreams", false, undefined), "UNAUTHENTICATED");
      } finally {
        probe.close();
      }
    });

    test("without a client certificate, or with one from another CA, the handshake fails", async () => {
      const other = new TestCertificates("another CA");
      try {
        const stranger = other.client("finger_app_1");
        for (const channelCredentials of [credentials.createSsl(ca), credentials.createSsl(ca, readFileSync(stranger.keyFile), readFileSync(stranger.certFile))]) {
          const probe = new AuthProbe(orchestrator.grpcAddress, channelCredentials);
          assert.equal(await probe.health(undefined), "UNAVAILABLE");
          probe.close();
        }
      } finally {
        other.remove();
      }
    });
  });

  test("a token bound to an instance id may connect as that instance only", async () => {
    const orchestrator = await startTestOrchestrator({ INSTANCE_TOKENS: `finger_app_1=${TOKENS.instance}` });
    const probe = new AuthProbe(orchestrator.grpcAddress, credentials.createInsecure());
    try {
      assert.equal(await probe.connect(TOKENS.instance, "finger_app_1"), "OK");
      assert.equal(await probe.connect(TOKENS.instance, "finger_app_2"), "PERMISSION_DENIED");
    } finally {
      probe.close();
      await orchestrator.close();
    }
  });

  test("with no token configured everything stays open", async () => {
    const orchestrator = await startTestOrchestrator({});
    const probe = new AuthProbe(orchestrator.grpcAddress, credentials.createInsecure());
    try {
      assert.equal(await probe.connect(undefined), "OK");
      assert.ok(through(await probe.admin("/orchestrator.v1.AdminService/DeleteStreams", false, undefined)));
      assert.equal(await httpStatus(`${orchestrator.httpBase}/status`, undefined), 200);
    } finally {
      probe.close();
      await orchestrator.close();
    }
  });
});
