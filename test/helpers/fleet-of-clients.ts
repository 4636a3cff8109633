import { InstanceClient, type RunningStream } from "../../src/client/index.js";
import { sleep } from "./wait.js";

/**
 * Who runs what across many real clients, every start and stop, and every time
 * two ran the same stream at once. (The simulator's OwnershipLedger also knows
 * instance states and faults; these tests need only the plain record.)
 */
export class StreamRunLog {
  readonly runningOn = new Map<string, string>();
  readonly violations: string[] = [];
  readonly log: Array<{ at: number; instance: string; stream: string; what: "start" | "stop" }> = [];

  started(instance: string, stream: string): void {
    const other = this.runningOn.get(stream);
    if (other && other !== instance) this.violations.push(`${stream} started on ${instance} while running on ${other}`);
    this.runningOn.set(stream, instance);
    this.log.push({ at: performance.now(), instance, stream, what: "start" });
  }

  stopped(instance: string, stream: string): void {
    if (this.runningOn.get(stream) === instance) this.runningOn.delete(stream);
    this.log.push({ at: performance.now(), instance, stream, what: "stop" });
  }
}

/** An InstanceClient whose handlers report to a run log and take `stopDelayMs` to stop a stream. */
export function ledgerClient(
  runs: StreamRunLog,
  address: string,
  instanceId: string,
  capacity: number,
  options: { stopDelayMs?: number; strict?: boolean } = {},
): InstanceClient {
  return new InstanceClient({
    address,
    instanceId,
    capacity,
    strict: options.strict,
    backoff: { initialMs: 50, maxMs: 500 },
    onStart: (stream: RunningStream) => runs.started(instanceId, stream.id),
    onStop: async (streamId: string) => {
      if (options.stopDelayMs) await sleep(options.stopDelayMs);
      runs.stopped(instanceId, streamId);
    },
  });
}
