/**
 * The Python client package (clients/python) installed as a user installs it, with pip from
 * Debian's packages and nothing downloaded (`pip install --no-build-isolation`, into a
 * virtualenv that sees Debian's grpcio and protobuf), then its pytest tests against a real
 * orchestrator started here: receive and ack, heartbeat metrics, reconnect with held streams,
 * strict stop on a lost lease, leave and leave to return, configuration errors, fenced writes
 * through asyncpg and psycopg, a cut-off instance's writes refused across a handover, the threaded
 * wrapper for synchronous workers; and against a second orchestrator on TLS with an instance
 * token: the CA and the token get in, a wrong token is refused (slowly retried), a token bound to
 * another instance ends the client with HelloRejected, plaintext never connects. The leader
 * change (tests/test_leader_change.py) needs replica processes: python-package-replicas.test.ts.
 *
 * Needs Debian's python3-grpcio, python3-protobuf, python3-pip, python3-venv,
 * python3-setuptools, python3-pytest, and for the fencing tests python3-asyncpg and
 * python3-psycopg (scripts/install-system-deps.sh installs them); without them this file
 * fails, it does not skip.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { credentials, Metadata } from "@grpc/grpc-js";
import { AdminClient } from "../helpers/admin-client.js";
import { APT, installPackage, run } from "../helpers/python-package.js";
import { TestCertificates } from "../helpers/test-certificates.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";

const TLS_INSTANCE = "pkg-tls";
const TLS_TOKEN = "pkg-instance-token-0123456789abcdef";
const ADMIN_TOKEN = "pkg-admin-token-0123456789abcdef";

describe("the Python client package (clients/python)", () => {
  const streams = ["pkg-a", "pkg-b", "pkg-c", "pkg-d"];
  let work = "";
  let venvPython = "";
  const tlsStreams = ["pkg-tls-a", "pkg-tls-b"];
  let orchestrator: TestOrchestrator | undefined;
  // A second one on TLS with an instance token (test_security.py); its status pages stay open.
  let secure: TestOrchestrator | undefined;
  let certs: TestCertificates | undefined;

  before(async () => {
    const pkg = await installPackage("finger-python-package-");
    work = pkg.work;
    venvPython = pkg.venvPython;
    certs = new TestCertificates();
    const server = certs.server();
    const fast = { HEARTBEAT_INTERVAL_MS: "300", LEASE_TTL_MS: "1500", RECONNECT_GRACE_MS: "500" };
    const [, o, s] = await Promise.all([
      pkg.installed,
      startTestOrchestrator(fast),
      startTestOrchestrator({
        ...fast,
        TLS_CERT_FILE: server.certFile,
        TLS_KEY_FILE: server.keyFile,
        INSTANCE_TOKENS: `${TLS_INSTANCE}=${TLS_TOKEN}`,
        ADMIN_TOKENS: ADMIN_TOKEN,
        HTTP_STATUS_PUBLIC: "true",
      }),
    ]);
    orchestrator = o;
    secure = s;
    const admin = new AdminClient(o.grpcAddress);
    await admin.upsert(streams.map((id) => ({ id, url: `https://radio.example/${id}.mp3` })));
    admin.close();
    const token = credentials.createFromMetadataGenerator((_params, callback) => {
      const metadata = new Metadata();
      metadata.set("authorization", `Bearer ${ADMIN_TOKEN}`);
      callback(null, metadata);
    });
    const secureAdmin = new AdminClient(s.grpcAddress, credentials.combineChannelCredentials(credentials.createSsl(readFileSync(certs.caFile)), token));
    await secureAdmin.upsert(tlsStreams.map((id) => ({ id })));
    secureAdmin.close();
  });
  after(async () => {
    await orchestrator?.close();
    await secure?.close();
    certs?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("its pytest tests pass against the real orchestrator", { timeout: 60_000 }, async () => {
    const o = orchestrator!;
    // Run from the temporary folder: the package must come from the installation, not the source tree.
    const pytest = await run(venvPython, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "--log-level=INFO",
      // The leader change needs replica processes: python-package-replicas.test.ts runs it.
      "--ignore", path.join(work, "source/tests/test_leader_change.py"), path.join(work, "source/tests")], {
      ORCHESTRATOR_TEST_ADDRESS: o.grpcAddress,
      ORCHESTRATOR_TEST_HTTP: o.httpBase,
      ORCHESTRATOR_TEST_STREAMS: streams.join(","),
      // The fencing tests write detections into their own schema of the orchestrator's database.
      ORCHESTRATOR_TEST_DATABASE_URL: o.database.url,
      ORCHESTRATOR_TEST_TLS_ADDRESS: secure!.grpcAddress,
      ORCHESTRATOR_TEST_TLS_HTTP: secure!.httpBase,
      ORCHESTRATOR_TEST_TLS_CA_FILE: certs!.caFile,
      ORCHESTRATOR_TEST_TLS_TOKEN: TLS_TOKEN,
      ORCHESTRATOR_TEST_TLS_INSTANCE: TLS_INSTANCE,
      ORCHESTRATOR_TEST_TLS_STREAMS: tlsStreams.join(","),
    });
    assert.equal(pytest.code, 0, `pytest failed (${APT} if a module is missing):\n${pytest.output}`);
    const passed = /(\d+) passed/.exec(pytest.output)?.[1];
    assert.ok(Number(passed) >= 34, `expected every test to run:\n${pytest.output}`);
    // The server gives a reconnecting instance its streams back with or without `held`, so
    // whether the hello listed them is read from the audit log: the reconnect's held all 4.
    const joins = await o.app.db.selectFrom("events").select("detail").where("kind", "=", "instance.joined")
      .where("instance_id", "=", "pkg-reconnect").orderBy("id").execute();
    assert.deepEqual(joins.map((row) => (row.detail as { held?: number }).held), [0, streams.length], "the reconnect's hello held every stream");
  });

  test("the installed package is the one built from the tree, with its types", async () => {
    const script = "import finger_orchestrator as f, importlib.resources as r; print(f.__file__); print(r.files(f).joinpath('py.typed').is_file())";
    const check = await run(venvPython, ["-c", script]);
    assert.equal(check.code, 0, check.output);
    const [file, typed] = check.output.trim().split("\n");
    assert.ok(file?.startsWith(path.join(work, "venv")), `imported from the virtualenv, got ${file}`);
    assert.equal(typed, "True", "py.typed is installed");
  });
});
