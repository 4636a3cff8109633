/**
 * What a chaos run watches from outside the orchestrator, as an operator would:
 * an admin call every few hundred milliseconds (each must end, OK or an error,
 * within ADMIN_CALL_TIMEOUT_MS plus a little), and WatchEvents (reopened after
 * every restart), whose events go to the timeline. With several replicas both
 * go to the replica that leads at the time (`address` is asked each time).
 */
import { credentials, Metadata, status, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { AdminServiceClient, type WatchEventsResponse } from "../../src/gen/orchestrator/v1/admin.js";
import type { Timeline } from "./timeline.js";

/** How much later than its server-side deadline a call may end: the client's own scheduling, a loaded machine. */
const DEADLINE_SLACK_MS = 1_500;

export class OrchestratorWatch {
  readonly calls = { total: 0, failed: 0, slowest: 0 };
  /** Counts by event kind. */
  readonly events = new Map<string, number>();
  private readonly clients = new Map<string, AdminServiceClient>();
  private timer: NodeJS.Timeout | undefined;
  private watch: ClientReadableStream<WatchEventsResponse> | undefined;
  private stopped = false;

  constructor(
    private readonly address: () => string,
    private readonly adminTimeoutMs: number,
    private readonly timeline: Timeline,
    private readonly probeStream: string,
    /** Calls that overlapped this (a replica paused by the run: no server answers anything meanwhile) may take longer. */
    private readonly excused: (from: number, to: number) => boolean = () => false,
  ) {}

  private get admin(): AdminServiceClient {
    const address = this.address();
    let client = this.clients.get(address);
    if (!client) this.clients.set(address, (client = new AdminServiceClient(address, credentials.createInsecure())));
    return client;
  }

  start(): void {
    this.probe();
    this.openWatch();
  }

  private probe(): void {
    if (this.stopped) return;
    const started = performance.now();
    // A read (served from memory) and a write that goes to the database (enabling a stream that
    // is enabled: a transaction that changes nothing), in turn, with a client deadline well past the server's.
    const deadline = new Date(Date.now() + this.adminTimeoutMs + 10_000);
    const done = (error: ServiceError | null) => {
      const took = performance.now() - started;
      this.calls.total++;
      this.calls.slowest = Math.max(this.calls.slowest, took);
      if (error) this.calls.failed++;
      // UNAVAILABLE at once (nothing listening during a restart) is fine; taking too long is not.
      if (took > this.adminTimeoutMs + DEADLINE_SLACK_MS && !this.excused(started, started + took)) {
        this.timeline.violation("admin call past its deadline", { tookMs: Math.round(took), code: error ? status[error.code] : "OK", limitMs: this.adminTimeoutMs });
      }
      this.timer = setTimeout(() => this.probe(), 300);
    };
    if (this.calls.total % 2 === 0) this.admin.listStreams({ owner: "", unassignedOnly: false, pageSize: 1, pageToken: "" }, new Metadata(), { deadline }, done);
    else this.admin.setStreamsEnabled({ streamIds: [this.probeStream], enabled: true }, new Metadata(), { deadline }, done);
  }

  private openWatch(): void {
    if (this.stopped) return;
    const watch = this.admin.watchEvents({ history: 0, instanceId: "", streamId: "", kinds: [] });
    this.watch = watch;
    watch.on("data", (m: WatchEventsResponse) => {
      const e = m.event;
      if (!e) return;
      this.events.set(e.kind, (this.events.get(e.kind) ?? 0) + 1);
      this.timeline.note(`event ${e.kind}`, { instance: e.instanceId || undefined, stream: e.streamId || undefined });
    });
    watch.on("error", () => undefined);
    watch.on("close", () => {
      if (this.watch === watch && !this.stopped) setTimeout(() => this.openWatch(), 500);
    });
  }

  /** Events of these kinds seen so far. */
  count(...kinds: string[]): number {
    return kinds.reduce((n, k) => n + (this.events.get(k) ?? 0), 0);
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watch?.cancel();
    for (const client of this.clients.values()) client.close();
  }
}
