/**
 * The client over real grpc-js against orchestrator replicas on loopback (test/client/fake-replicas.ts):
 * a standby's go_away leads it to the leader, and a name with several records is dialled record
 * by record over TLS with the certificate still checked against the name.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ServerCredentials, status } from "@grpc/grpc-js";
import { InstanceClient, type DisconnectedEvent, type InstanceClientOptions } from "../../src/client/index.js";
import { FakeReplica } from "./fake-replicas.js";
import { TestCertificates } from "../helpers/test-certificates.js";
import { waitUntil } from "../helpers/wait.js";

const clients: InstanceClient[] = [];

function client(options: Partial<InstanceClientOptions> & Pick<InstanceClientOptions, "address">) {
  const disconnects: DisconnectedEvent[] = [];
  const c = new InstanceClient({ instanceId: "finger_app_1", capacity: 5, backoff: { initialMs: 10, maxMs: 50 }, onStart: () => {}, onStop: () => {}, ...options });
  c.on("disconnected", (e) => disconnects.push(e));
  clients.push(c);
  c.start();
  return { client: c, disconnects };
}

describe("InstanceClient against a standby and a leader over grpc-js", () => {
  const replicas: FakeReplica[] = [];
  let leader: FakeReplica;
  let standby: FakeReplica;
  before(async () => {
    leader = await FakeReplica.leader("leader");
    standby = await FakeReplica.standby("standby", () => leader.address);
    replicas.push(leader, standby);
  });
  after(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const r of replicas) r.close();
  });

  test("configured with the standby alone, its go_away leads the client to the leader, which welcomes it", async () => {
    const { client: c, disconnects } = client({ address: standby.address });
    await waitUntil(() => c.connected && c.running().has("a"), 5_000, "a welcome from the leader");
    assert.equal(c.sessionId, "leader-1");
    assert.equal(c.address, leader.address);
    assert.equal(standby.calls, 1, "the standby was asked once");
    assert.deepEqual(disconnects.map((d) => [d.address, d.code]), [[standby.address, status.UNAVAILABLE]]);
    assert.match(disconnects[0]!.details, /standby; the leader is 127\.0\.0\.1:\d+/);
    await c.close();
  });

  test("configured as \"standby,leader\" in one string: welcomed by the leader", async () => {
    const { client: c } = client({ address: `${standby.address},${leader.address}` });
    await waitUntil(() => c.connected && c.address === leader.address, 5_000, "a welcome from the leader");
    assert.equal(leader.hellos.at(-1)?.instanceId, "finger_app_1");
  });
});

describe("a name with several records over TLS", () => {
  const certs = new TestCertificates();
  let leader: FakeReplica;
  before(async () => {
    const pair = certs.server(); // for DNS:localhost and IP:127.0.0.1, not 127.0.0.2
    const credentials = ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(pair.certFile), private_key: readFileSync(pair.keyFile) }]);
    leader = await FakeReplica.leader("tls-leader", { host: "127.0.0.2", credentials });
  });
  after(async () => {
    for (const c of clients.splice(0)) await c.close();
    leader.close();
    certs.remove();
  });

  test("each record is dialled in turn and the certificate is checked against the name", async () => {
    const port = Number(leader.address.split(":")[1]);
    const resolved: string[] = [];
    const { client: c, disconnects } = client({
      address: `localhost:${port}`,
      tls: { ca: readFileSync(certs.caFile) },
      // The first record refuses (nothing listens there); the second is the leader.
      resolver: async (host) => (resolved.push(host), ["127.0.0.3", "127.0.0.2"]),
    });
    await waitUntil(() => c.connected, 5_000, () => `a welcome over TLS; disconnects ${JSON.stringify(disconnects)}`);
    assert.equal(c.address, `127.0.0.2:${port}`);
    assert.equal(disconnects[0]?.address, `127.0.0.3:${port}`);
    assert.deepEqual(resolved, ["localhost"]);
  });

  test("dialled by the IP alone, the same certificate is refused: the name is what passed", async () => {
    const { client: c, disconnects } = client({ address: leader.address, tls: { ca: readFileSync(certs.caFile) } });
    await waitUntil(() => disconnects.length >= 1, 5_000, "a failed handshake");
    assert.equal(c.connected, false);
    assert.equal(disconnects[0]?.code, status.UNAVAILABLE);
  });
});
