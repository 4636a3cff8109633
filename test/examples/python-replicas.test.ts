/**
 * The Python example instance given several orchestrator replicas: ORCHESTRATOR_URL as a
 * comma-separated list, the order it dials them in (the package's addresses.py), and the example
 * itself against a standby and a leader on real grpc-js servers (test/client/fake-replicas.ts,
 * no database), over plaintext and, for a name with several records, over TLS.
 *
 * Needs what python-instance.test.ts needs, and the openssl command for the certificates.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { ServerCredentials } from "@grpc/grpc-js";
import { FakeReplica } from "../client/fake-replicas.js";
import { checkToolchain, EXAMPLE_DIR, PYTHON, PythonInstance, pythonEnv, runPythonJson } from "../helpers/python-instance.js";
import { TestCertificates } from "../helpers/test-certificates.js";
import { waitUntil } from "../helpers/wait.js";

/** Like runPythonJson, but without blocking the event loop, so the fake replicas in this process can answer. */
function runPythonAsync<T>(script: string): Promise<T> {
  const child = spawn(PYTHON, ["-c", script], { cwd: EXAMPLE_DIR, env: pythonEnv() });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) =>
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`python exited with ${code}:\n${err}`)))),
  );
}

describe("the Python example instance with several orchestrator replicas", () => {
  const workers: PythonInstance[] = [];
  const replicas: FakeReplica[] = [];
  before(() => checkToolchain());
  afterEach(() => {
    for (const w of workers.splice(0)) if (w.child.exitCode === null) w.child.kill("SIGKILL");
    for (const r of replicas.splice(0)) r.close();
  });

  const python = (env: Record<string, string>) => {
    const w = new PythonInstance({ INSTANCE_ID: "py-replicas", ...env });
    workers.push(w);
    return w;
  };
  async function standbyAndLeader() {
    const leader = await FakeReplica.leader("leader");
    const standby = await FakeReplica.standby("standby", () => leader.address);
    replicas.push(leader, standby);
    return { leader, standby };
  }

  test("ORCHESTRATOR_URL as a comma-separated list; a bad entry is named with the variable", () => {
    const script = `
import json
from finger_orchestrator import ClientConfig
out = []
for url in [" a:1 , http://b:2,c ", "grpcs://a,b:7", "a:1,b:x", "a:1,,b:1", "https://a,http://b", "a:1,ftp://b"]:
    try:
        config = ClientConfig.from_env({"ORCHESTRATOR_URL": url, "INSTANCE_ID": "a"})
        out.append({"target": ",".join(config.targets), "tls": config.security.tls})
    except ValueError as error:
        out.append({"error": str(error)})
print(json.dumps(out))
`;
    const [list, tls, badPort, empty, mixed, scheme] = runPythonJson<Array<Record<string, unknown>>>(script);
    assert.deepEqual(list, { target: "a:1,b:2,c:50051", tls: false });
    assert.deepEqual(tls, { target: "a:443,b:7", tls: true }, "an entry without a scheme follows the others");
    assert.match(String(badPort?.error), /^ORCHESTRATOR_URL: entry 2 \('b:x'\): .*port/);
    assert.match(String(empty?.error), /^ORCHESTRATOR_URL: entry 2 of 'a:1,,b:1' is empty/);
    assert.match(String(mixed?.error), /^ORCHESTRATOR_URL: .* mixes TLS/);
    assert.match(String(scheme?.error), /^ORCHESTRATOR_URL: entry 2 \('ftp:\/\/b'\): unsupported scheme/);
  });

  test("the rotation: in order at once, the backoff once a cycle, a named leader next, ping-pong cut off, records expanded", () => {
    // Waits are printed in ms; the jitter is fixed at one half, so the backoff gives 50, 100, ...
    const script = `
import json
from finger_orchestrator.addresses import AddressRotation, expand_targets
def run(rotation, ends):
    steps = []
    for end in ends:
        address = rotation.take().address
        if end.get("welcomed"):
            rotation.welcomed()
        steps.append([address, round(1000 * rotation.after(end.get("welcomed", False), end.get("after"), end.get("leader", "")))])
    return steps
plain = lambda *targets: AddressRotation(targets, None, rand=lambda: 0.5)
records = {"orch.test": ["10.0.0.1", "2001:db8::2"], "solo.test": ["10.0.0.9"]}
asked = []
def resolve(host, port):
    asked.append(host)
    return records[host]
result = {
  "cycle": run(plain("a:1", "b:1", "c:1"), [{}, {"after": 30}, {}, {}]),
  "hint": run(plain("a:1", "b:1", "c:1"), [{"after": 500, "leader": "c:1"}, {}, {}]),
  "welcomed": run(plain("a:1", "b:1"), [{}, {"welcomed": True}, {}, {}, {"welcomed": True, "after": 20}, {}]),
  "pingPong": run(plain("a:1", "b:1"), [{"after": 0, "leader": "b:1"}, {"after": 0, "leader": "a:1"}] * 2 + [{"after": 0, "leader": "b:1"}]),
  "expanded": [e.__dict__ for e in expand_targets(["orch.test:50051", "solo.test:1", "10.0.0.5:1"], resolve)],
  "asked": list(asked),
}
result["resolvedEachCycle"] = run(AddressRotation(["orch.test:50051"], resolve, rand=lambda: 0.5), [{}, {}, {}])
result["lookups"] = len(asked) - len(result["asked"])
print(json.dumps(result))
`;
    const r = runPythonJson<Record<string, unknown>>(script);
    assert.deepEqual(r.cycle, [["a:1", 0], ["b:1", 30], ["c:1", 50], ["a:1", 0]]);
    assert.deepEqual(r.hint, [["a:1", 0], ["c:1", 0], ["b:1", 50]], "the named leader at once, then the rest of the list, c not twice");
    assert.deepEqual(
      r.welcomed,
      [["a:1", 0], ["b:1", 50], ["b:1", 0], ["a:1", 100], ["b:1", 20], ["a:1", 0]],
      "the leader first after a break (with the backoff), last after its go_away (with the delay it asked)",
    );
    assert.deepEqual(r.pingPong, [["a:1", 0], ["b:1", 0], ["a:1", 0], ["b:1", 50], ["a:1", 0]], "addresses + 1 hints, then the backoff");
    assert.deepEqual(r.expanded, [
      { address: "10.0.0.1:50051", server_name: "orch.test" },
      { address: "[2001:db8::2]:50051", server_name: "orch.test" },
      { address: "solo.test:1", server_name: null },
      { address: "10.0.0.5:1", server_name: null },
    ]);
    assert.deepEqual(r.asked, ["orch.test", "solo.test"], "literal addresses are not looked up");
    assert.deepEqual(r.resolvedEachCycle, [["10.0.0.1:50051", 0], ["[2001:db8::2]:50051", 50], ["10.0.0.1:50051", 0]]);
    assert.equal(r.lookups, 2, "one lookup per cycle");
  });

  test("configured with \"standby-address,leader-address\": welcomed by the leader, runs what it grants", { timeout: 15_000 }, async () => {
    const { leader, standby } = await standbyAndLeader();
    const py = python({ ORCHESTRATOR_URL: `${standby.address},${leader.address}` });
    await waitUntil(() => py.running().has("a"), 8_000, () => `python to run the leader's stream; output:\n${py.output()}`);
    assert.equal(py.count(new RegExp(`connected to ${leader.address} as py-replicas`)), 1, py.output());
    assert.equal(leader.hellos[0]?.instanceId, "py-replicas");
    assert.equal(standby.calls, 1, "the standby was asked once");
    assert.equal(py.count(/sent go_away \(standby; the leader is 127\.0\.0\.1:\d+\)/), 1, py.output());
  });

  test("configured with the standby alone: its go_away's leader address leads the example to the leader", { timeout: 15_000 }, async () => {
    const { leader, standby } = await standbyAndLeader();
    const py = python({ ORCHESTRATOR_URL: standby.address });
    await waitUntil(() => py.running().has("a"), 8_000, () => `python to run the leader's stream; output:\n${py.output()}`);
    assert.equal(py.count(new RegExp(`connected to ${leader.address} `)), 1, py.output());
    py.child.kill("SIGINT");
    assert.equal((await py.exit(3_000)).code, 0, py.output());
  });

  test("a name with several records over TLS: dialled record by record, the certificate checked against the name", { timeout: 15_000 }, async () => {
    const certs = new TestCertificates();
    try {
      const pair = certs.server(); // for DNS:localhost and IP:127.0.0.1, not 127.0.0.2
      const credentials = ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(pair.certFile), private_key: readFileSync(pair.keyFile) }]);
      const leader = await FakeReplica.leader("tls-leader", { host: "127.0.0.2", credentials });
      replicas.push(leader);
      const port = leader.address.split(":")[1];
      // Nothing listens on 127.0.0.3, the first record.
      const script = `
import asyncio, json, time
from finger_orchestrator import ChannelSecurity, OrchestratorClient
security = ChannelSecurity(tls=True, ca=open(${JSON.stringify(certs.caFile)}, "rb").read())
resolve = lambda host, port: ["127.0.0.3", "127.0.0.2"] if host == "localhost" else []
async def main():
    client = OrchestratorClient("localhost:${port}", "py-tls", 1, lambda s: None, lambda i: None,
                                security=security, resolve=resolve, backoff_initial=0.01, backoff_max=0.05)
    client.start()
    deadline = time.monotonic() + 8
    while not client.running() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    print(json.dumps({"target": client.target, "running": sorted(client.running())}))
    await client.leave()
asyncio.run(main())
`;
      const result = await runPythonAsync<{ target: string; running: string[] }>(script);
      assert.deepEqual(result, { target: `127.0.0.2:${port}`, running: ["a"] });
      assert.equal(leader.hellos[0]?.instanceId, "py-tls");
    } finally {
      certs.remove();
    }
  });
});
