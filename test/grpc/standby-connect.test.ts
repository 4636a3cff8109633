import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { status, type ServerDuplexStream } from "@grpc/grpc-js";
import { ConnectResponse, type ConnectRequest } from "../../src/gen/orchestrator/v1/orchestrator.js";
import { standbyConnect } from "../../src/grpc/standby-services.js";
import { ReplicaStatus } from "../../src/leadership/replica-status.js";

/** The part of a server call standbyConnect uses: what it writes, and the status it ends with. */
function fakeCall() {
  const call = new EventEmitter() as EventEmitter & { written: ConnectResponse[]; ended?: { code: number; details: string }; write: (b: Buffer, cb: () => void) => boolean };
  call.written = [];
  call.write = (buffer, cb) => {
    call.written.push(ConnectResponse.decode(buffer));
    cb();
    return true;
  };
  call.on("error", (e: { code: number; details: string }) => (call.ended = e));
  return call;
}

function answer(replica: ReplicaStatus) {
  const call = fakeCall();
  standbyConnect(call as unknown as ServerDuplexStream<ConnectRequest, Buffer>, replica);
  const goAway = call.written[0]?.msg?.$case === "goAway" ? call.written[0].msg.value : undefined;
  return { goAway, ended: call.ended };
}

describe("a replica that is not serving as leader answers Connect", () => {
  test("a standby names the leader it heard of", () => {
    const replica = new ReplicaStatus("replicas", "b:50051");
    replica.heardOf(3, "a:50051");
    const { goAway, ended } = answer(replica);
    assert.equal(goAway?.reason, "standby");
    assert.equal(goAway?.leaderAddress, "a:50051");
    assert.equal(goAway?.reconnectAfterMs, 0);
    assert.equal(ended?.code, status.UNAVAILABLE);
    assert.match(ended?.details ?? "", /is standby, not the leader; the leader is at a:50051 \(term 3\)/);
  });

  test("a replica just elected, still loading the fleet, says so and asks for a short wait instead of calling itself not the leader", () => {
    const replica = new ReplicaStatus("replicas", "b:50051");
    replica.leading(4);
    const { goAway, ended } = answer(replica);
    assert.equal(goAway?.reason, "elected, loading the fleet");
    assert.equal(goAway?.leaderAddress, "b:50051");
    assert.ok((goAway?.reconnectAfterMs ?? 0) > 0);
    assert.equal(ended?.code, status.UNAVAILABLE);
    assert.match(ended?.details ?? "", /just elected and is loading the fleet/);
  });
});
