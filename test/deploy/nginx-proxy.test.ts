/**
 * deploy/nginx/orchestrator.conf, run as it is by Debian's nginx (installed by
 * scripts/install-system-deps.sh) in front of a real orchestrator: TLS ends at
 * nginx, tokens pass through, and an instance behind it gets its streams.
 * Only the example's names, paths and addresses are replaced.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { credentials } from "@grpc/grpc-js";
import { InstanceClient } from "../../src/client/index.js";
import { freePort } from "../../src/net/free-port.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { AuthProbe, httpStatus } from "../helpers/auth-probe.js";
import { projectRoot } from "../helpers/process.js";
import { TestCertificates } from "../helpers/test-certificates.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { pollUntil, waitUntil } from "../helpers/wait.js";

const TOKENS = { INSTANCE_TOKENS: "proxy-instance-token-0123456789", ADMIN_TOKENS: "proxy-admin-token-0123456789" };

describe("behind nginx (deploy/nginx/orchestrator.conf)", () => {
  const certs = new TestCertificates();
  const ca = readFileSync(certs.caFile);
  let orchestrator: TestOrchestrator;
  let nginx: ChildProcess;
  let address: string;
  let nginxOutput = "";

  before(async () => {
    orchestrator = await startTestOrchestrator(TOKENS);
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    const server = certs.server();
    const example = readFileSync(path.join(projectRoot, "deploy/nginx/orchestrator.conf"), "utf8");
    const config = example
      .replace("orchestrator:50051", orchestrator.grpcAddress)
      .replace("orchestrator:8080", orchestrator.httpBase.replace("http://", ""))
      .replace("listen 443 ssl http2;", `listen 127.0.0.1:${port} ssl http2;`)
      .replace("/etc/ssl/finger/tls.crt", server.certFile)
      .replace("/etc/ssl/finger/tls.key", server.keyFile);
    assert.notEqual(config, example);
    const dir = certs.dir;
    writeFileSync(path.join(dir, "orchestrator.conf"), config);
    // The main file a distribution would have, in the temp folder: no daemon, no user switch.
    writeFileSync(
      path.join(dir, "nginx.conf"),
      `worker_processes 1;\npid ${dir}/nginx.pid;\nerror_log stderr warn;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fastcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n  include ${dir}/orchestrator.conf;\n}\n`,
    );
    nginx = spawn("nginx", ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-g", "daemon off; user root;"], { stdio: ["ignore", "pipe", "pipe"] });
    nginx.stderr!.on("data", (c: Buffer) => (nginxOutput += c.toString()));
    const probe = new AuthProbe(address, credentials.createSsl(ca));
    const up = await pollUntil(async () => (await probe.health(undefined)) === "OK", 10_000, 100);
    probe.close();
    assert.ok(up, `nginx serves: ${nginxOutput}`);
  });
  after(async () => {
    nginx?.kill("SIGQUIT");
    await orchestrator?.close();
    certs.remove();
  });

  test("tokens pass through: refused without, served with; the HTTP shim too", async () => {
    const probe = new AuthProbe(address, credentials.createSsl(ca));
    try {
      assert.equal(await probe.admin("/orchestrator.v1.AdminService/ListStreams", false, undefined), "UNAUTHENTICATED");
      assert.equal(await probe.admin("/orchestrator.v1.AdminService/ListStreams", false, TOKENS.ADMIN_TOKENS), "OK");
      assert.equal(await probe.reflection(undefined), "OK");
    } finally {
      probe.close();
    }
    const base = `https://${address.replace("127.0.0.1", "localhost")}`;
    assert.equal(await httpStatus(`${base}/status`, undefined, ca), 401);
    assert.equal(await httpStatus(`${base}/status`, TOKENS.ADMIN_TOKENS, ca), 200);
    assert.equal(await httpStatus(`${base}/healthz`, undefined, ca), 200);
  });

  test("an instance behind it gets its streams and keeps its lease", async () => {
    const admin = new AdminClient(orchestrator.grpcAddress, credentials.createInsecure(), TOKENS.ADMIN_TOKENS);
    await admin.upsert(streamIds(5).map((id) => ({ id })));
    admin.close();
    const running = new Set<string>();
    const client = new InstanceClient({
      address,
      tls: { ca },
      token: TOKENS.INSTANCE_TOKENS,
      instanceId: "behind_nginx",
      capacity: 10,
      onStart: (s) => void running.add(s.id),
      onStop: (id) => void running.delete(id),
    });
    client.start();
    try {
      await waitUntil(() => running.size === 5, 10_000, () => `the instance to run 5 streams through nginx, it runs ${running.size}`);
      const info = await new AdminClient(orchestrator.grpcAddress, credentials.createInsecure(), TOKENS.ADMIN_TOKENS).getInstance("behind_nginx");
      assert.equal(info.instance?.state, 1, "connected");
    } finally {
      await client.close();
    }
  });
});
