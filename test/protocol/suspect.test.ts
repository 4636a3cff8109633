import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useRawFleet } from "../helpers/raw-fleet.js";
import { waitUntil } from "../helpers/wait.js";

const HEARTBEAT = 300;
const SUSPECT = 600;
const LEASE = 5_000;

// The suspect rules themselves run on the in-memory store (test/coordinator/suspect.test.ts);
// this checks what operators see of a suspect over the real stack.
describe("a connected instance that has gone quiet (suspect), as operators see it", () => {
  const fleet = useRawFleet({ HEARTBEAT_INTERVAL_MS: String(HEARTBEAT), SUSPECT_AFTER_MS: String(SUSPECT), LEASE_TTL_MS: String(LEASE) }, 6);

  test("is reported in GetInstance, /instances and finger_instances_suspect until heard from again", async () => {
    const b = fleet.open("b");
    const c = fleet.open("c");
    b.heartbeatEvery(100);
    const quiet = c.heartbeatEvery(100);
    await waitUntil(() => b.owned().size === 3 && c.owned().size === 3, 3_000, "3/3");
    quiet();
    await waitUntil(async () => (await fleet.admin.getInstance("c")).instance?.suspect === true, SUSPECT + 2_000, "c to be reported suspect");
    assert.equal((await fleet.admin.getInstance("b")).instance?.suspect, false);
    const listed = (await (await fetch(`${fleet.orchestrator.httpBase}/instances`)).json()) as { instances: Array<{ server_id: string; suspect: boolean }> };
    assert.deepEqual(listed.instances.filter((i) => i.suspect).map((i) => i.server_id), ["c"]);
    assert.match(await (await fetch(`${fleet.orchestrator.httpBase}/metrics`)).text(), /^finger_instances_suspect 1$/m);
    assert.equal(c.owned().size, 3, "it keeps what it runs");

    c.heartbeatEvery(100);
    await waitUntil(async () => (await fleet.admin.getInstance("c")).instance?.suspect === false, 2_000, "c heard from again");
  });
});
