/**
 * A wall-clock step (NTP correcting a VM after a pause, `date -s`) must move
 * nothing: leases, reconnect grace, suspects and the move rate limit are
 * durations, and a step of the wall clock is not time passing.
 *
 * The orchestrator runs as a child process under Debian's libfaketime, whose
 * offset is read from a file at every wall-clock read, so the test steps the
 * child's `Date.now()` while its monotonic clock (FAKETIME_DONT_FAKE_MONOTONIC)
 * and this process's clocks keep running untouched. Ten raw sessions from this
 * process keep heartbeating through a step an hour forward and then to an hour
 * behind the real time.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Metadata, status, type CallOptions, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { InstanceState, StreamState, type Event, type InstanceInfo, type StreamInfo, type WatchEventsResponse } from "../../src/gen/orchestrator/v1/admin.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { freePort, spawnOrchestrator, waitForHttp200, type NodeChild } from "../helpers/process.js";
import { RawSession } from "../helpers/raw-session.js";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database.js";
import { sleep, waitUntil } from "../helpers/wait.js";

const HEARTBEAT_INTERVAL_MS = 300;
const LEASE_TTL_MS = 2_000;
const RECONNECT_GRACE_MS = 1_000;
// As often as the orchestrator asks, not more: a wall-clock coordinator only
// sees the step as silence in a lease check (every 100 ms) that comes before
// the instance's next heartbeat, so the longer the gap the surer today's code
// fails. The lease still spans more than six heartbeats, so a late one on
// these shared cores moves nothing.
const SEND_HEARTBEAT_EVERY_MS = HEARTBEAT_INTERVAL_MS;
const INSTANCES = 10;
const STREAMS = 40;
// The one wait that cannot be a poll: it waits for something NOT to happen.
// On a wall clock a forward step expires leases at the next check (every
// 100 ms); two lease lengths also let a lease that ran across the step end, and
// every lease be renewed several times after it, so a clock that is only partly
// monotonic (a deadline set on one clock and checked on the other) shows too.
const HOLD_AFTER_STEP_MS = 2 * LEASE_TTL_MS;
const HOUR_MS = 3_600_000;
// How far the orchestrator's reported time may be from the intended offset:
// loose enough for a slow request, far tighter than the hour it proves.
const SKEW_TOLERANCE_MS = 30_000;
const CALL_TIMEOUT_MS = 10_000;

/** Where Debian's libfaketime package puts the library (multiarch path). */
function libfaketimePath(): string {
  const triplet = { x64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" }[process.arch as string] ?? `${process.arch}-linux-gnu`;
  return `/usr/lib/${triplet}/faketime/libfaketime.so.1`;
}

/**
 * Kinds that mean the orchestrator gave up on an instance; none may happen here.
 * instance.suspect may: a heartbeat late on these shared cores is not a move.
 */
const LOST_INSTANCE_KINDS = new Set(["instance.expired", "instance.dead", "instance.disconnected", "instance.superseded", "instance.left"]);

/** At most `max` of `items`, and how many there were, so a failure that hits everything stays readable. */
function summarise(label: string, items: string[], max = 5): string[] {
  if (items.length === 0) return [];
  const more = items.length > max ? ` (+${items.length - max} more)` : "";
  return [`${items.length} ${label}: ${items.slice(0, max).join("; ")}${more}`];
}

describe("a step of the orchestrator's wall clock", () => {
  const lib = libfaketimePath();
  let dir: string;
  let offsetFile: string;
  let database: TestDatabase | undefined;
  let orchestrator: NodeChild | undefined;
  let admin: AdminClient | undefined;
  let httpBase: string;
  let grpcAddress: string;
  let watch: ClientReadableStream<WatchEventsResponse> | undefined;
  let watchEnded: string | undefined;
  const events: Event[] = [];
  const sessions = new Map<string, RawSession>();
  const sessionEnded = new Map<string, string>();

  // A test process that is not under faketime sets the deadlines.
  const options = (): Partial<CallOptions> => ({ deadline: Date.now() + CALL_TIMEOUT_MS });
  const listInstances = () =>
    new Promise<InstanceInfo[]>((resolve, reject) =>
      admin!.stub.listInstances({}, new Metadata(), options(), (e: ServiceError | null, r) => (e ? reject(e) : resolve(r!.instances))),
    );
  const listStreams = () =>
    new Promise<StreamInfo[]>((resolve, reject) =>
      admin!.stub.listStreams({ owner: "", unassignedOnly: false, pageSize: 1000, pageToken: "" }, new Metadata(), options(), (e: ServiceError | null, r) =>
        e ? reject(e) : resolve(r!.streams),
      ),
    );

  /** Sets libfaketime's offset, e.g. "+3600s"; renamed into place so no clock read sees a half-written file. */
  function setOffset(offset: string): void {
    const next = `${offsetFile}.next`;
    writeFileSync(next, `${offset}\n`);
    renameSync(next, offsetFile);
  }

  /** How far the orchestrator's wall clock (the `timestamp` of /status) is from this process's. */
  async function orchestratorSkewMs(): Promise<number> {
    const sent = Date.now();
    const response = await fetch(`${httpBase}/status`, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    const { timestamp } = (await response.json()) as { timestamp: string };
    return Date.parse(timestamp) - (sent + Date.now()) / 2;
  }

  before(async () => {
    // Not a skip: without the library the clock would not move and the test would prove nothing.
    assert.ok(existsSync(lib), `${lib} is missing: install Debian's libfaketime (scripts/install-system-deps.sh does)`);
    dir = mkdtempSync(path.join(tmpdir(), "finger-clock-"));
    offsetFile = path.join(dir, "faketime.rc");
    // Present from the first clock read: without the file libfaketime would
    // fall back to ~/.faketimerc or /etc/faketimerc.
    setOffset("+0");
    database = await createTestDatabase();
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    httpBase = `http://127.0.0.1:${httpPort}`;
    grpcAddress = `127.0.0.1:${grpcPort}`;
    orchestrator = spawnOrchestrator({
      DATABASE_URL: database.url,
      GRPC_PORT: String(grpcPort),
      HTTP_PORT: String(httpPort),
      BIND_HOST: "127.0.0.1",
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS),
      LEASE_TTL_MS: String(LEASE_TTL_MS),
      RECONNECT_GRACE_MS: String(RECONNECT_GRACE_MS),
      LD_PRELOAD: lib,
      FAKETIME_TIMESTAMP_FILE: offsetFile,
      // Without it libfaketime shifts CLOCK_MONOTONIC too, and node's timers
      // (and performance.now()) would jump by the hour along with Date.now().
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
      // Read the file at every clock read, not every 10 s: the step is instant.
      FAKETIME_NO_CACHE: "1",
    });
    const proc = orchestrator;
    await Promise.race([
      waitForHttp200(`${httpBase}/readyz`, 60_000),
      proc.exited.then(({ code, signal }) => {
        throw new Error(`the orchestrator exited (${code ?? signal}) while starting: ${proc.stderr()}`);
      }),
    ]);
    admin = new AdminClient(grpcAddress);
    // From the start, with history for whatever happened before it was registered.
    watch = admin.stub.watchEvents({ history: 1000, instanceId: "", streamId: "", kinds: [] });
    watch.on("data", (m: WatchEventsResponse) => m.event && events.push(m.event));
    watch.on("error", (e: ServiceError) => (watchEnded ??= e.details || e.message));
    watch.on("end", () => (watchEnded ??= "ended by the server"));
  }, { timeout: 120_000 });

  after(async () => {
    for (const s of sessions.values()) s.close();
    watch?.cancel();
    admin?.close();
    const proc = orchestrator;
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
      // SIGTERM lets libfaketime remove its shared memory; SIGKILL only if it hangs.
      proc.child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([proc.exited.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 15_000)))]);
      clearTimeout(timer);
      if (!stopped) {
        proc.child.kill("SIGKILL");
        await proc.exited;
      }
    }
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, { timeout: 60_000 });

  test("an hour forward, then an hour back: no instance dies, no stream moves, no session ends", { timeout: 180_000 }, async (t) => {
    const ids = Array.from({ length: INSTANCES }, (_, i) => `i-${String(i).padStart(2, "0")}`);
    for (const id of ids) {
      const s = new RawSession(grpcAddress).autoAck();
      s.hello({ instanceId: id, capacity: 10 });
      s.ended.then((e) => sessionEnded.set(id, e ? `${status[e.code]} ${e.details}` : "ended"));
      sessions.set(id, s);
    }
    // Spread over the period, not sent in one burst: ten heartbeats in a burst
    // land on the same side of the first lease check after the step (a
    // heartbeat before it renews the lease on the stepped clock), so on a wall
    // clock all ten would often survive. Spread, most fall behind that check.
    for (const s of sessions.values()) {
      s.heartbeatEvery(SEND_HEARTBEAT_EVERY_MS);
      await sleep(SEND_HEARTBEAT_EVERY_MS / INSTANCES);
    }
    // All connected before the catalog exists, so placement is one round with nothing to rebalance after.
    await waitUntil(async () => (await listInstances()).filter((i) => i.state === InstanceState.INSTANCE_STATE_CONNECTED).length === INSTANCES, 30_000, `${INSTANCES} connected instances`);
    await admin!.upsert(streamIds(STREAMS).map((id) => ({ id })));

    const share = STREAMS / INSTANCES;
    const latestStreamEvent = (streamId: string) => events.findLast((e) => e.streamId === streamId && e.kind.startsWith("stream."));
    let placed: StreamInfo[] = [];
    await waitUntil(
      async () => {
        placed = await listStreams();
        return (
          placed.length === STREAMS &&
          placed.every((s) => s.state === StreamState.STREAM_STATE_ASSIGNED && sessions.get(s.owner)?.owned().get(s.id) === s.epoch) &&
          [...sessions.values()].every((s) => s.owned().size === share) &&
          // The watcher has caught up, so every event it gets from here on happened after placement.
          placed.every((s) => latestStreamEvent(s.id)?.kind === "stream.assigned" && latestStreamEvent(s.id)?.instanceId === s.owner)
        );
      },
      30_000,
      `${STREAMS} streams placed ${share} per instance, acknowledged, and seen by the watcher`,
    );
    const placement = new Map(placed.map((s) => [s.id, { owner: s.owner, epoch: s.epoch }]));
    const assignmentsReceived = new Map([...sessions].map(([id, s]) => [id, s.assignments().length]));
    const eventsAtPlacement = events.length;

    /** Everything that differs from the placement, in words; empty when nothing moved. */
    async function changes(): Promise<string[]> {
      const found: string[] = [];
      if (watchEnded) found.push(`the event watch ended (${watchEnded}), so events may be missing`);
      found.push(...summarise("instance-loss events", events.filter((e) => LOST_INSTANCE_KINDS.has(e.kind)).map((e) => `${e.kind} ${e.instanceId} ${JSON.stringify(e.detail)}`)));
      found.push(...summarise("stream events after placement", events.slice(eventsAtPlacement).filter((e) => e.kind.startsWith("stream.")).map((e) => `${e.kind} ${e.streamId} ${e.instanceId}`)));
      const instances = await listInstances();
      found.push(...summarise("instances not connected", instances.filter((i) => i.state !== InstanceState.INSTANCE_STATE_CONNECTED).map((i) => `${i.id} ${InstanceState[i.state]}`)));
      if (instances.length !== INSTANCES) found.push(`${instances.length} instances listed, not ${INSTANCES}`);
      const moved = (await listStreams()).flatMap((s) => {
        const was = placement.get(s.id);
        return was && s.owner === was.owner && s.epoch === was.epoch && s.state === StreamState.STREAM_STATE_ASSIGNED
          ? []
          : [`${s.id} ${was?.owner}@${was?.epoch} -> ${s.owner || "nobody"}@${s.epoch} ${StreamState[s.state]}`];
      });
      found.push(...summarise("streams moved", moved));
      found.push(...summarise("sessions ended", [...sessionEnded].map(([id, why]) => `${id}: ${why}`)));
      const told = [...sessions].filter(([id, s]) => s.assignments().length !== assignmentsReceived.get(id)).map(([id]) => id);
      found.push(...summarise("sessions sent new assignments", told));
      return found;
    }

    assert.deepEqual(await changes(), [], "settled before any step");
    const startSkew = await orchestratorSkewMs();
    assert.ok(Math.abs(startSkew) < SKEW_TOLERANCE_MS, `at +0 the orchestrator's clock is ${startSkew} ms off`);
    t.diagnostic(`before the steps the orchestrator's wall clock is ${Math.round(startSkew)} ms from this process's`);

    for (const step of [
      { offset: "+3600s", skewMs: HOUR_MS, name: "an hour forward" },
      { offset: "-3600s", skewMs: -HOUR_MS, name: "an hour back from the real time (two hours back from the last step)" },
    ]) {
      setOffset(step.offset);
      // Proof the step took effect in the orchestrator, not just in the file.
      let skew = 0;
      await waitUntil(async () => Math.abs((skew = await orchestratorSkewMs()) - step.skewMs) < SKEW_TOLERANCE_MS, 10_000, `the orchestrator's clock to read ${step.offset}`);
      t.diagnostic(`${step.name}: the orchestrator's /status timestamp is ${Math.round(skew)} ms from this process's clock`);
      await sleep(HOLD_AFTER_STEP_MS);
      assert.deepEqual(await changes(), [], `after ${step.name} and ${HOLD_AFTER_STEP_MS} ms of heartbeats`);
      // Still stepped at the end of the hold: the offset was not lost or undone.
      assert.ok(Math.abs((await orchestratorSkewMs()) - step.skewMs) < SKEW_TOLERANCE_MS, `the orchestrator's clock stayed at ${step.offset}`);
    }
  });
});
