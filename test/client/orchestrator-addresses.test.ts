import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InstanceClient, joinHostPort, parseAddresses, splitHostPort } from "../../src/client/index.js";

describe("orchestrator addresses", () => {
  test("one address, an array, or a comma-separated list with spaces; in order, without repeats", () => {
    assert.deepEqual(parseAddresses("orch.example:50051"), ["orch.example:50051"]);
    assert.deepEqual(parseAddresses(" a:50051 ,b.example:50052,  10.0.0.3:7 "), ["a:50051", "b.example:50052", "10.0.0.3:7"]);
    assert.deepEqual(parseAddresses(["[::1]:50051", "a:1", "a:1", " b:2 "]), ["[::1]:50051", "a:1", "b:2"]);
  });

  test("an entry that is not host:port is named, with the option, in the error", () => {
    const cases: Array<[string | string[], RegExp]> = [
      ["a:50051,b", /^TypeError: address: "b" is not host:port/],
      ["a:50051,,b:1", /^TypeError: address: entry 2 of "a:50051,,b:1" is empty/],
      ["a:50051, ", /^TypeError: address: entry 2 .* is empty/],
      ["http://a:50051", /^TypeError: address: "http:\/\/a:50051" is not host:port/],
      ["a:0", /"a:0" is not host:port/],
      ["a:65536", /"a:65536" is not host:port/],
      ["::1:50051", /"::1:50051" is not host:port/],
      ["[nope]:1", /"\[nope\]:1" is not host:port/],
      ["bad_host-:1", /"bad_host-:1" is not host:port/],
      [[], /^TypeError: address must name at least one host:port/],
    ];
    for (const [value, error] of cases) assert.throws(() => parseAddresses(value), error, JSON.stringify(value));
    assert.throws(() => parseAddresses("x", "ORCHESTRATOR_URL"), /^TypeError: ORCHESTRATOR_URL: "x" is not host:port/);
    assert.throws(() => parseAddresses([1 as unknown as string]), /entry 1 is a number/);
  });

  test("the client refuses a bad entry when constructed, naming the option and the entry", () => {
    const base = { instanceId: "i", capacity: 1, onStart() {}, onStop() {} };
    assert.throws(() => new InstanceClient({ ...base, address: "a:1,b:x" }), /^TypeError: InstanceClient: address: "b:x" is not host:port/);
    assert.throws(() => new InstanceClient({ ...base, address: ["a:1", ""] }), /InstanceClient: address: entry 2 .* is empty/);
    assert.doesNotThrow(() => new InstanceClient({ ...base, address: "a:1, b:2" }));
  });

  test("host and port apart and back together, brackets only for IPv6", () => {
    assert.deepEqual(splitHostPort("[2001:db8::1]:443"), { host: "2001:db8::1", port: 443 });
    assert.deepEqual(splitHostPort("orch.example.:50051"), { host: "orch.example.", port: 50051 });
    assert.equal(splitHostPort("orch.example"), undefined);
    assert.equal(joinHostPort("2001:db8::1", 443), "[2001:db8::1]:443");
    assert.equal(joinHostPort("10.0.0.1", 443), "10.0.0.1:443");
  });
});
