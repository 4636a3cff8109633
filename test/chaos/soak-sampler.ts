/**
 * What a soak run watches over time: the orchestrator's resident memory (from
 * /proc), its V8 heap (from /metrics) and the size of the audit log (events
 * rows), sampled every 30 s, so that growth after warm-up shows.
 */
import { readFileSync } from "node:fs";
import { queryRows } from "../helpers/test-database.js";
import type { ChaosOrchestrator } from "./chaos-orchestrator.js";

export interface SoakSample {
  minute: number;
  rssMiB: number;
  heapUsedMiB: number;
  events: number | undefined;
}

const MiB = 1024 * 1024;

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

export class SoakSampler {
  readonly samples: SoakSample[] = [];
  private readonly started = performance.now();
  private last = Number.NEGATIVE_INFINITY;
  private busy = false;

  constructor(
    private readonly onSample?: (sample: SoakSample) => void,
    private readonly everyMs = 30_000,
  ) {}

  /** Called every second by the run; samples when the interval has passed. */
  tick(orchestrator: ChaosOrchestrator): void {
    const now = performance.now();
    if (this.busy || now - this.last < this.everyMs || !orchestrator.running || orchestrator.pid === undefined) return;
    this.last = now;
    this.busy = true;
    void this.sample(orchestrator, orchestrator.pid, now).finally(() => (this.busy = false));
  }

  private async sample(orchestrator: ChaosOrchestrator, pid: number, now: number): Promise<void> {
    try {
      const metrics = await (await fetch(`${orchestrator.httpBase}/metrics`)).text();
      const heap = Number(/^finger_nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? Number.NaN);
      const url = orchestrator.databaseUrl;
      const events = url ? (await queryRows<{ n: number }>(url, "select count(*)::int as n from orchestrator.events"))[0]?.n : undefined;
      const sample = { minute: Math.round((now - this.started) / 6_000) / 10, rssMiB: Math.round(rssOf(pid) / MiB), heapUsedMiB: Math.round(heap / MiB), events };
      this.samples.push(sample);
      // As it is taken: a soak that dies half-way still leaves what it measured.
      this.onSample?.(sample);
    } catch {
      // a sample during a restart or an outage is skipped
    }
  }
}
