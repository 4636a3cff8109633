/**
 * The Python example instance (examples/python) against an orchestrator on TLS with instance
 * tokens: it reads the URL and the security variables as the TypeScript client does, gets in
 * with its token over TLS and over mutual TLS, keeps retrying slowly on a refused token (a
 * rotation on the server fixes that without a restart), gives up when its credentials name
 * another instance, and never prints its token.
 *
 * Needs what python-instance.test.ts needs, and the openssl command for the certificates.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { credentials, Metadata } from "@grpc/grpc-js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { checkToolchain, PythonInstance, runPythonJson } from "../helpers/python-instance.js";
import { TestCertificates } from "../helpers/test-certificates.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { sleep, waitUntil } from "../helpers/wait.js";

const ID = "finger_py_1";
const TOKEN = "py-instance-token-0123456789abcdef";
const WRONG_TOKEN = "py-wrong-token-0123456789abcdef";
const ADMIN_TOKEN = "py-admin-token-0123456789abcdef";
const FAST = { HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "1500", RECONNECT_GRACE_MS: "500" };

describe("the Python example instance with tokens, TLS and mutual TLS", () => {
  const certs = new TestCertificates();
  const server = certs.server();
  let orchestrator: TestOrchestrator | undefined;
  const workers: PythonInstance[] = [];

  before(() => checkToolchain());
  afterEach(async () => {
    for (const w of workers.splice(0)) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    await orchestrator?.close();
    orchestrator = undefined;
  });
  after(() => {
    certs.remove();
  });

  /** An orchestrator on TLS whose one instance token is bound to ID, with `ids` in its catalog. */
  async function boot(ids: string[], extra: Record<string, string> = {}): Promise<TestOrchestrator> {
    orchestrator = await startTestOrchestrator({
      ...FAST,
      TLS_CERT_FILE: server.certFile,
      TLS_KEY_FILE: server.keyFile,
      INSTANCE_TOKENS: `${ID}=${TOKEN}`,
      ADMIN_TOKENS: ADMIN_TOKEN,
      ...extra,
    });
    // A client certificate too, in case the orchestrator asks for one (mutual TLS).
    const admin = certs.client("admin");
    const tls = credentials.createSsl(readFileSync(certs.caFile), readFileSync(admin.keyFile), readFileSync(admin.certFile));
    const token = credentials.createFromMetadataGenerator((_params, callback) => {
      const metadata = new Metadata();
      metadata.set("authorization", `Bearer ${ADMIN_TOKEN}`);
      callback(null, metadata);
    });
    const client = new AdminClient(orchestrator.grpcAddress, credentials.combineChannelCredentials(tls, token));
    if (ids.length) await client.upsert(ids.map((id) => ({ id })));
    client.close();
    return orchestrator;
  }

  function python(o: TestOrchestrator, workerEnv: Record<string, string>): PythonInstance {
    const w = new PythonInstance({
      ORCHESTRATOR_URL: `grpcs://${o.grpcAddress}`,
      ORCHESTRATOR_CA_FILE: certs.caFile,
      INSTANCE_ID: ID,
      ...workerEnv,
    });
    workers.push(w);
    return w;
  }

  function assertNoToken(py: PythonInstance): void {
    for (const token of [TOKEN, WRONG_TOKEN]) assert.ok(!py.output().includes(token), `a token in the worker's output:\n${py.output()}`);
  }

  test("reads ORCHESTRATOR_URL and the security variables as the TypeScript client does", () => {
    const script = `
import json
from finger_orchestrator import ClientConfig
ca, cert, key = ${JSON.stringify([certs.caFile, server.certFile, server.keyFile])}
cases = [
  {"ORCHESTRATOR_URL": "https://orch.example"},
  {"ORCHESTRATOR_URL": "grpcs://orch.example/"},
  {"ORCHESTRATOR_URL": "grpcs://orch.example:8443"},
  {"ORCHESTRATOR_URL": "grpc://orch.example"},
  {"ORCHESTRATOR_URL": "http://[::1]"},
  {"ORCHESTRATOR_URL": "orch.example:50052", "ORCHESTRATOR_CA_FILE": ca, "ORCHESTRATOR_TOKEN": " ${TOKEN} "},
  {"ORCHESTRATOR_URL": "orch:1", "ORCHESTRATOR_CERT_FILE": cert, "ORCHESTRATOR_KEY_FILE": key},
  {"ORCHESTRATOR_URL": "orch:1", "ORCHESTRATOR_CERT_FILE": cert},
  {"ORCHESTRATOR_URL": "orch:1", "ORCHESTRATOR_CA_FILE": "/nonexistent/ca.pem"},
  {"ORCHESTRATOR_URL": "orch:1", "ORCHESTRATOR_CA_FILE": key},
  {"ORCHESTRATOR_URL": "orch:1", "ORCHESTRATOR_TOKEN": "${TOKEN} and more"},
  {"ORCHESTRATOR_URL": "orch.example/v1"},
]
out = []
for env in cases:
    try:
        config = ClientConfig.from_env({"INSTANCE_ID": "a", **env})
        s = config.security
        out.append({"target": ",".join(config.targets), "tls": s.tls, "token": s.token, "ca": s.ca is not None,
                    "mutual": s.cert is not None, "repr": repr(s), "describe": s.describe()})
    except ValueError as error:
        out.append({"error": str(error)})
print(json.dumps(out))
`;
    type Row = { target?: string; tls?: boolean; token?: string | null; ca?: boolean; mutual?: boolean; repr?: string; describe?: string; error?: string };
    const rows = runPythonJson<Row[]>(script);
    const [https, grpcsSlash, grpcsPort, grpc, ipv6, caOnly, mutual, certOnly, unreadable, notCa, badToken, withPath] = rows;
    const target = (r: Row | undefined) => r && { target: r.target, tls: r.tls };
    assert.deepEqual(target(https), { target: "orch.example:443", tls: true });
    assert.deepEqual(target(grpcsSlash), { target: "orch.example:443", tls: true });
    assert.deepEqual(target(grpcsPort), { target: "orch.example:8443", tls: true });
    assert.deepEqual(target(grpc), { target: "orch.example:50051", tls: false });
    assert.deepEqual(target(ipv6), { target: "[::1]:50051", tls: false });
    // A CA turns TLS on even without https://; the port default stays the scheme's.
    assert.deepEqual(caOnly && { ...target(caOnly), token: caOnly.token, ca: caOnly.ca, mutual: caOnly.mutual }, { target: "orch.example:50052", tls: true, token: TOKEN, ca: true, mutual: false });
    assert.equal(caOnly?.describe, "TLS, with token");
    assert.deepEqual(mutual && { tls: mutual.tls, ca: mutual.ca, mutual: mutual.mutual, describe: mutual.describe }, { tls: true, ca: false, mutual: true, describe: "mutual TLS, no token" });
    assert.match(String(certOnly?.error), /^ORCHESTRATOR_KEY_FILE must be set too: ORCHESTRATOR_CERT_FILE is/);
    assert.equal(unreadable?.error, "ORCHESTRATOR_CA_FILE=/nonexistent/ca.pem: cannot be read (No such file or directory)");
    assert.match(String(notCa?.error), new RegExp(`^ORCHESTRATOR_CA_FILE=${server.keyFile}: not a PEM CA certificate`));
    assert.match(String(badToken?.error), /^ORCHESTRATOR_TOKEN: may hold only/);
    assert.match(String(withPath?.error), /^ORCHESTRATOR_URL: .*no path/);
    for (const row of rows) {
      for (const text of [row.repr, row.describe, row.error]) assert.ok(!text?.includes(TOKEN), `the token in ${text}`);
    }
  });

  test("grpcs:// with the CA and its token: connects over TLS and runs its streams", { timeout: 20_000 }, async () => {
    const ids = streamIds(3, "tls");
    const o = await boot(ids);
    const py = python(o, { ORCHESTRATOR_TOKEN: TOKEN });
    await waitUntil(() => py.running().size === 3, 8_000, () => `the Python instance to start 3 streams; output:\n${py.output()}`);
    assert.deepEqual([...py.running().keys()].sort(), ids);
    assert.match(py.output(), /connecting to 127\.0\.0\.1:\d+ \(TLS, with token\)/);
    assert.equal(o.app.coordinator.view.instance(ID)?.state, "connected");
    py.child.kill("SIGTERM");
    assert.equal((await py.exit(3_000)).code, 0, py.output());
    assertNoToken(py);
  });

  test("a wrong token: one error line naming UNAUTHENTICATED, no streams, and it keeps retrying slowly", { timeout: 20_000 }, async () => {
    const o = await boot(streamIds(2, "bad"));
    const py = python(o, { ORCHESTRATOR_TOKEN: WRONG_TOKEN });
    const refused = /ERROR finger_orchestrator: the orchestrator refused the credentials \(UNAUTHENTICATED: authorization: the token is not valid.*\); retrying in 15 s/;
    await waitUntil(() => py.count(refused) === 1, 8_000, () => `the refusal to be logged; output:\n${py.output()}`);
    await sleep(1_500); // a retry at the usual backoff (0.25 s, 0.5 s, ...) would show within this
    assert.equal(py.child.exitCode, null, `still running, to retry; output:\n${py.output()}`);
    assert.equal(py.count(/UNAUTHENTICATED/), 1, "no fast retries");
    assert.equal(py.running().size, 0);
    assert.equal(o.app.coordinator.view.instance(ID), undefined, "never got in");
    const termAt = Date.now();
    py.child.kill("SIGTERM");
    assert.equal((await py.exit(3_000)).code, 0, py.output());
    assert.ok(Date.now() - termAt < 2_000, "SIGTERM interrupts the back-off");
    assertNoToken(py);
  });

  test("a token bound to another instance (PERMISSION_DENIED): gives up like a rejected hello", { timeout: 20_000 }, async () => {
    const o = await boot([]);
    const py = python(o, { ORCHESTRATOR_TOKEN: TOKEN, INSTANCE_ID: "finger_py_2" });
    const exit = await py.exit(8_000);
    assert.equal(exit.code, 1, py.output());
    assert.match(py.output(), /rejected instance 'finger_py_2' \(PERMISSION_DENIED: hello\.instance_id: this token is bound to instance finger_py_1\); not reconnecting/);
    assert.equal(py.count(/rejected/), 1, "one attempt, no retries");
    assertNoToken(py);
  });

  test("mutual TLS: its own certificate gets it in; one naming another instance is refused for good", { timeout: 20_000 }, async () => {
    const ids = streamIds(2, "mtls");
    const o = await boot(ids, { TLS_CLIENT_CA_FILE: certs.caFile });
    const own = certs.client(ID);
    const py = python(o, { ORCHESTRATOR_TOKEN: TOKEN, ORCHESTRATOR_CERT_FILE: own.certFile, ORCHESTRATOR_KEY_FILE: own.keyFile });
    await waitUntil(() => py.running().size === 2, 8_000, () => `the Python instance to start 2 streams; output:\n${py.output()}`);
    assert.match(py.output(), /\(mutual TLS, with token\)/);

    // Same id and token, someone else's certificate: refused before it could supersede the first.
    const other = certs.client("finger_py_2");
    const impostor = python(o, { ORCHESTRATOR_TOKEN: TOKEN, ORCHESTRATOR_CERT_FILE: other.certFile, ORCHESTRATOR_KEY_FILE: other.keyFile });
    assert.equal((await impostor.exit(8_000)).code, 1, impostor.output());
    assert.match(impostor.output(), /\(PERMISSION_DENIED: hello\.instance_id: the client certificate names finger_py_2.*, not finger_py_1\)/);
    assert.equal(py.count(/superseded/), 0, "the first worker was not disturbed");
    assert.equal(py.running().size, 2);

    py.child.kill("SIGTERM");
    assert.equal((await py.exit(3_000)).code, 0, py.output());
    assertNoToken(py);
    assertNoToken(impostor);
  });
});
