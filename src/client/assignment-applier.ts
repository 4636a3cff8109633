import type { Logger } from "pino";
import { pino } from "pino";
import type { Assignment, HeldStream, Stream } from "../gen/orchestrator/v1/orchestrator.js";
import { SerialQueue } from "./serial-queue.js";
import type { ApplyResult, EpochChangeHandler, RunningStream, StartHandler, StopHandler, StopReason } from "./types.js";

export type { ApplyResult };

/** What one assignment changes, computed against the running set before any handler runs. */
export interface AssignmentPlan {
  /** Running streams to stop, in this order, before anything starts. */
  stop: string[];
  /** Streams to start once the stops finished. */
  start: RunningStream[];
  /** Running streams that stay running under a new epoch. */
  update: RunningStream[];
}


/** Callbacks the applier drives. */
export interface ApplierHandlers {
  onStart: StartHandler;
  onStop: StopHandler;
  onEpochChange?: EpochChangeHandler | undefined;
  logger?: Logger | undefined;
}

function toRunning(stream: Stream): RunningStream {
  return Object.freeze({
    id: stream.id,
    url: stream.url,
    name: stream.name,
    metadata: Object.freeze({ ...stream.metadata }),
    epoch: stream.epoch,
  });
}

/**
 * Plans an assignment as the protocol defines it: for a full one, everything running but not
 * in `add` stops; for an incremental one, `remove` stops. Then every `add` not running after
 * the stops starts, and every `add` still running only takes the new epoch, because a restart
 * would drop audio for nothing. An id in both `remove` and `add` is therefore restarted.
 */
export function planAssignment(running: ReadonlyMap<string, RunningStream>, assignment: Assignment): AssignmentPlan {
  // The last occurrence wins should the server ever repeat an id within one message.
  const add = new Map<string, Stream>();
  for (const stream of assignment.add) add.set(stream.id, stream);

  const stop = assignment.full
    ? [...running.keys()].filter((id) => !add.has(id))
    : [...new Set(assignment.remove)].filter((id) => running.has(id));
  const stopped = new Set(stop);

  const start: RunningStream[] = [];
  const update: RunningStream[] = [];
  for (const stream of add.values()) {
    const current = stopped.has(stream.id) ? undefined : running.get(stream.id);
    if (!current) start.push(toRunning(stream));
    else if (current.epoch !== stream.epoch) update.push(Object.freeze({ ...current, epoch: stream.epoch }));
  }
  return { stop, start, update };
}

/**
 * Owns the set of running streams and applies assignments to it through the start and stop
 * handlers. Every operation is queued, so an assignment never interleaves with another one
 * or with `stopAll`; the caller acks once `apply` resolved, i.e. once every handler finished.
 */
export class AssignmentApplier {
  readonly #handlers: ApplierHandlers;
  readonly #log: Logger;
  readonly #running = new Map<string, RunningStream>();
  readonly #queue = new SerialQueue();

  constructor(handlers: ApplierHandlers) {
    this.#handlers = handlers;
    this.#log = handlers.logger ?? pino({ level: "silent" });
  }

  /** How many streams run now. */
  get size(): number {
    return this.#running.size;
  }

  /** A snapshot of the running streams. */
  running(): ReadonlyMap<string, RunningStream> {
    return new Map(this.#running);
  }

  /** The running streams with their epochs, as a hello reports them. */
  held(): HeldStream[] {
    return [...this.#running.values()].map((s) => ({ streamId: s.id, epoch: s.epoch }));
  }

  /** Resolves once every operation queued so far finished. */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Applies one assignment after every earlier operation; never rejects because of a handler. */
  apply(assignment: Assignment): Promise<ApplyResult> {
    return this.#queue.run(() => this.#apply(assignment));
  }

  /** Stops every running stream after every earlier operation; resolves with their ids. */
  stopAll(reason: StopReason): Promise<string[]> {
    return this.#queue.run(() => this.#stop([...this.#running.keys()], reason));
  }

  async #apply(assignment: Assignment): Promise<ApplyResult> {
    const plan = planAssignment(this.#running, assignment);
    // Stops first: the server counts on capacity being freed, and an id in remove and add restarts.
    const removed = await this.#stop(plan.stop, "revoked");
    const updated = await this.#update(plan.update);
    const [added, failed] = await this.#start(plan.start);
    return { seq: assignment.seq, full: assignment.full, added, removed, updated, failed };
  }

  async #stop(ids: string[], reason: StopReason): Promise<string[]> {
    await Promise.all(
      ids.map(async (id) => {
        try {
          await this.#handlers.onStop(id, reason);
        } catch (error) {
          // Nothing better to do: the orchestrator already considers it gone from here.
          this.#log.error({ err: error, streamId: id, reason }, "stop handler failed; treating the stream as stopped");
        } finally {
          this.#running.delete(id);
        }
      }),
    );
    return ids;
  }

  async #update(streams: RunningStream[]): Promise<string[]> {
    await Promise.all(
      streams.map(async (stream) => {
        const previous = this.#running.get(stream.id)?.epoch ?? 0;
        this.#running.set(stream.id, stream);
        try {
          await this.#handlers.onEpochChange?.(stream, previous);
        } catch (error) {
          this.#log.error({ err: error, streamId: stream.id, epoch: stream.epoch }, "epoch change handler failed");
        }
      }),
    );
    return streams.map((s) => s.id);
  }

  async #start(streams: RunningStream[]): Promise<[added: string[], failed: string[]]> {
    const added: string[] = [];
    const failed: string[] = [];
    await Promise.all(
      streams.map(async (stream) => {
        try {
          await this.#handlers.onStart(stream);
          this.#running.set(stream.id, stream);
          added.push(stream.id);
        } catch (error) {
          this.#log.error({ err: error, streamId: stream.id, epoch: stream.epoch }, "start handler failed; stream not running");
          failed.push(stream.id);
        }
      }),
    );
    // Handlers finish in any order; report in assignment order so events are deterministic.
    const order = new Map(streams.map((s, i) => [s.id, i]));
    const byOrder = (a: string, b: string) => (order.get(a) ?? 0) - (order.get(b) ?? 0);
    return [added.sort(byOrder), failed.sort(byOrder)];
  }
}
