import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { expandAddresses, systemResolver, type HostResolver } from "../../src/client/address-resolver.js";
import { endpointChannelOptions } from "../../src/client/index.js";

const log = pino({ level: "silent" });

/** A resolver that answers from a table and counts the names it was asked. */
function table(records: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve: HostResolver = async (host) => {
    asked.push(host);
    const found = records[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return found;
  };
  return { resolve, asked };
}

describe("expanding orchestrator addresses into endpoints", () => {
  test("a resolver that does not answer in time leaves the name to be dialled as it is, without holding the others up", async () => {
    const hung: HostResolver = (host) => (host === "stuck.example" ? new Promise<string[]>(() => undefined) : Promise.resolve(["10.0.0.1", "10.0.0.2"]));
    const started = performance.now();
    const endpoints = await expandAddresses(["stuck.example:50051", "orch.example:50051"], hung, log, 50);
    assert.ok(performance.now() - started < 1_000, "bounded by the timeout");
    assert.deepEqual(endpoints, [
      { address: "stuck.example:50051" },
      { address: "10.0.0.1:50051", serverName: "orch.example" },
      { address: "10.0.0.2:50051", serverName: "orch.example" },
    ]);
  });

  test("a name with several records is one endpoint per record, each keeping the name for TLS", async () => {
    const dns = table({ "orch.example": ["10.0.0.1", "2001:db8::2", "10.0.0.1"], "solo.example": ["10.0.0.9"] });
    const endpoints = await expandAddresses(["orch.example:50051", "solo.example:50051", "10.0.0.5:50051", "[::1]:50051"], dns.resolve, log);
    assert.deepEqual(endpoints, [
      { address: "10.0.0.1:50051", serverName: "orch.example" },
      { address: "[2001:db8::2]:50051", serverName: "orch.example" },
      // One record: dialled by its name, as before; literal addresses are never looked up.
      { address: "solo.example:50051" },
      { address: "10.0.0.5:50051" },
      { address: "[::1]:50051" },
    ]);
    assert.deepEqual(dns.asked, ["orch.example", "solo.example"]);
  });

  test("a name that does not resolve stays as it is (grpc-js reports why); an IP under two names is two endpoints", async () => {
    const dns = table({ "orch.example": ["10.0.0.1", "10.0.0.2"], "alias.example": ["10.0.0.2", "10.0.0.1"] });
    const endpoints = await expandAddresses(["gone.example:1", "orch.example:1", "alias.example:1", "orch.example:1"], dns.resolve, log);
    assert.deepEqual(endpoints, [
      { address: "gone.example:1" },
      { address: "10.0.0.1:1", serverName: "orch.example" },
      { address: "10.0.0.2:1", serverName: "orch.example" },
      // The same server, but its certificate is checked against another name.
      { address: "10.0.0.2:1", serverName: "alias.example" },
      { address: "10.0.0.1:1", serverName: "alias.example" },
    ]);
  });

  test("the system resolver lists every record of a name", async () => {
    const records = await systemResolver("localhost");
    assert.ok(records.length >= 1 && records.every((r) => r === "127.0.0.1" || r === "::1"), records.join(", "));
  });

  test("a record of a name is dialled with the name as TLS server name and authority", () => {
    assert.deepEqual(endpointChannelOptions({ address: "10.0.0.1:443", serverName: "orch.example" }), {
      "grpc.ssl_target_name_override": "orch.example",
      "grpc.default_authority": "orch.example:443",
    });
    assert.deepEqual(endpointChannelOptions({ address: "orch.example:443" }), {});
  });
});
