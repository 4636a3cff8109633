import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { classifyDisconnect } from "../../src/client/index.js";

describe("classifyDisconnect", () => {
  test("go_away wins over whatever status followed it", () => {
    assert.equal(classifyDisconnect({ code: status.CANCELLED, details: "", goAwayAfterMs: 0 }), "go-away");
    assert.equal(classifyDisconnect({ code: status.OK, details: "", goAwayAfterMs: 500 }), "go-away");
  });

  test("ABORTED mentioning superseded means another process took the instance id", () => {
    assert.equal(classifyDisconnect({ code: status.ABORTED, details: "session superseded by a new connection" }), "superseded");
    assert.equal(classifyDisconnect({ code: status.ABORTED, details: "Superseded" }), "superseded");
    assert.equal(classifyDisconnect({ code: status.ABORTED, details: "transaction aborted" }), "retry");
    assert.equal(classifyDisconnect({ code: status.UNAVAILABLE, details: "superseded" }), "retry");
  });

  test("INVALID_ARGUMENT is a rejected hello", () => {
    assert.equal(classifyDisconnect({ code: status.INVALID_ARGUMENT, details: "capacity out of range" }), "rejected");
  });

  test("transient failures reconnect", () => {
    for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.OK, status.INTERNAL, status.CANCELLED]) {
      assert.equal(classifyDisconnect({ code, details: "lease expired" }), "retry", `code ${code}`);
    }
  });
});
