import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { stopOnSignals } from "../../src/client/index.js";
import { closeClientsAfterEach, connect, setup } from "./client-setup.js";
import { stream } from "./fakes.js";
import { waitUntil } from "../helpers/wait.js";

closeClientsAfterEach();

/** The leave the client sent, if any. */
function leaveOf(call: Awaited<ReturnType<typeof connect>>) {
  const leave = call.written.find((m) => m.msg?.$case === "leave");
  return leave?.msg?.$case === "leave" ? leave.msg.value : undefined;
}

describe("stopOnSignals: SIGTERM is a restart, SIGINT a shutdown", () => {
  for (const [signal, expected] of [
    ["SIGTERM", { reason: "restart", returnWithinMs: 30_000 }],
    ["SIGINT", { reason: "shutdown", returnWithinMs: 0 }],
  ] as const) {
    test(`${signal}: every stream stopped, then leave ${JSON.stringify(expected)}`, async () => {
      const s = setup();
      const call = await connect(s);
      call.assign(1, true, [stream("a")]);
      await waitUntil(() => call.acks().length === 1);
      const source = new EventEmitter();
      const closedBy: string[] = [];
      stopOnSignals(s.client, { source, restartReturnWithinMs: 30_000, then: (sig) => closedBy.push(sig) });
      source.emit(signal);
      await waitUntil(() => leaveOf(call) !== undefined, 2_000, "a leave");
      assert.deepEqual(s.stopped, [["a", "shutdown"]], "streams stopped before the leave");
      assert.deepEqual(leaveOf(call), expected);
      call.finish(0, "");
      await waitUntil(() => closedBy.length === 1, 3_000, "then");
      assert.deepEqual(closedBy, [signal]);
      assert.equal(source.listenerCount("SIGTERM") + source.listenerCount("SIGINT"), 0, "the handlers are gone");
    });
  }
});
