/**
 * The simulator against an orchestrator with TLS and tokens, as `--address`
 * points it at one: the virtual instances dial with an instance token and the
 * admin calls with an admin token, and a wrong or missing token ends the run at
 * once with a message naming the variable, instead of a setup that times out.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseChurnSpec } from "../../src/simulator/churn-spec.js";
import { Simulation, type SimulationOptions } from "../../src/simulator/simulation.js";
import { runScript } from "../helpers/process.js";
import { TestCertificates } from "../helpers/test-certificates.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";

const INSTANCE = "sim-instance-token-0123456789";
const ADMIN = "sim-admin-token-0123456789";

describe("a simulation against an orchestrator with TLS and tokens", () => {
  let orchestrator: TestOrchestrator;
  let certificates: TestCertificates;
  let tls: { ca: Buffer };

  before(async () => {
    certificates = new TestCertificates();
    const server = certificates.server();
    tls = { ca: readFileSync(certificates.caFile) };
    orchestrator = await startTestOrchestrator({
      TLS_CERT_FILE: server.certFile,
      TLS_KEY_FILE: server.keyFile,
      INSTANCE_TOKENS: INSTANCE,
      ADMIN_TOKENS: ADMIN,
      HEARTBEAT_INTERVAL_MS: "500",
      LEASE_TTL_MS: "2000",
      RECONNECT_GRACE_MS: "1000",
    });
  });
  after(async () => {
    await orchestrator?.close();
    certificates?.remove();
  });

  const options = (security: Pick<SimulationOptions, "instanceSecurity" | "adminSecurity">): SimulationOptions => ({
    address: orchestrator.grpcAddress,
    orchestrator: "test",
    instances: 2,
    streams: 6,
    capacities: [5],
    churn: parseChurnSpec(""),
    durationMs: 300,
    seed: 1,
    setupTimeoutMs: 10_000,
    deleteStreams: true,
    sampleIntervalMs: 100,
    ...security,
  });

  test("with an instance token for the instances and an admin token for the admin calls, every stream runs", async () => {
    const report = await new Simulation(options({ instanceSecurity: { tls, token: INSTANCE }, adminSecurity: { tls, token: ADMIN } })).run();
    assert.deepEqual(report.violations, []);
    assert.equal(report.instances.upAtEnd, 2);
    assert.equal(report.final.unservedLedger, 0);
    assert.deepEqual(report.notes, []);
  });

  test("a missing instance token ends setup at once with UNAUTHENTICATED, not after the setup timeout", async () => {
    const started = performance.now();
    await assert.rejects(new Simulation(options({ instanceSecurity: { tls }, adminSecurity: { tls, token: ADMIN } })).run(), {
      name: "SessionRefusedError",
      message: /^the orchestrator refused sim-i-00\d's session: UNAUTHENTICATED: authorization: this call needs an instance token/,
    });
    assert.ok(performance.now() - started < 5_000, `took ${(performance.now() - started).toFixed(0)} ms`);
  });

  test("an admin token for the instances is PERMISSION_DENIED", async () => {
    await assert.rejects(new Simulation(options({ instanceSecurity: { tls, token: ADMIN }, adminSecurity: { tls, token: ADMIN } })).run(), {
      name: "SessionRefusedError",
      message: /: PERMISSION_DENIED: authorization: a admin token may not make this call/,
    });
  });

  test("npm run simulate -- --address grpcs://...: the tokens and the CA come from the environment", async () => {
    const url = `grpcs://${orchestrator.grpcAddress}`;
    const args = ["--address", url, "--instances", "2", "--streams", "4", "--duration", "0.3", "--plain"];
    const env = { ORCHESTRATOR_CA_FILE: certificates.caFile, ORCHESTRATOR_TOKEN: INSTANCE };
    const [ok, noAdmin] = await Promise.all([
      runScript("src/cli/simulate.ts", args, { ...env, ORCHESTRATOR_ADMIN_TOKEN: ADMIN }),
      runScript("src/cli/simulate.ts", args, env),
    ]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /\(external, TLS\)/);
    assert.equal(noAdmin.code, 1);
    assert.equal(noAdmin.stdout, "");
    assert.match(
      noAdmin.stderr,
      /^simulate: GetStatus failed at 127\.0\.0\.1:\d+: UNAUTHENTICATED: authorization: this call needs a viewer or admin token[^\n]*; the admin calls send ORCHESTRATOR_ADMIN_TOKEN, which must be an admin token\n$/,
    );
  });
});
