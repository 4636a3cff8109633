import { afterEach } from "node:test";
import {
  InstanceClient,
  type AssignmentEvent,
  type DisconnectedEvent,
  type InstanceClientOptions,
  type RunningStream,
  type StopReason,
} from "../../src/client/index.js";
import { FakeTransport, releaseAllDeferred, type FakeCall } from "./fakes.js";
import { waitUntil } from "../helpers/wait.js";

const clients: InstanceClient[] = [];

/** A client on a fake transport whose handlers record what they were asked to do. */
export function setup(overrides: Partial<InstanceClientOptions> = {}) {
  const transport = new FakeTransport();
  const started: RunningStream[] = [];
  const stopped: Array<[string, StopReason]> = [];
  const client = new InstanceClient({
    address: "fake:1",
    instanceId: "finger_app_1",
    capacity: 10,
    labels: { region: "eu" },
    version: "1.2.3",
    backoff: { initialMs: 1, maxMs: 5 },
    transport,
    onStart: (s) => void started.push(s),
    onStop: (id, reason) => void stopped.push([id, reason]),
    ...overrides,
  });
  const events = {
    assignment: [] as AssignmentEvent[],
    disconnected: [] as DisconnectedEvent[],
    superseded: [] as string[],
    rejected: [] as string[],
    errors: [] as Error[],
  };
  client.on("assignment", (e) => events.assignment.push(e));
  client.on("disconnected", (e) => events.disconnected.push(e));
  client.on("superseded", (e) => events.superseded.push(e.details));
  client.on("rejected", (e) => events.rejected.push(e.details));
  client.on("error", (e) => events.errors.push(e));
  clients.push(client);
  return { client, transport, started, stopped, events };
}

/** Starts the client and completes the handshake of its first session. */
export async function connect(s: ReturnType<typeof setup>, heartbeatMs = 60_000, leaseMs = 60_000): Promise<FakeCall> {
  s.client.start();
  const call = await s.transport.call(0);
  call.welcome("s1", heartbeatMs, leaseMs);
  await waitUntil(() => s.client.connected, 2_000, "the welcome to be processed");
  return call;
}

/** Registers the clean-up of every client set up in the calling file. */
export function closeClientsAfterEach(): void {
  afterEach(async () => {
    releaseAllDeferred();
    for (const client of clients.splice(0)) await client.close();
  });
}
