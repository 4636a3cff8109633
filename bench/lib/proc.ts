/**
 * CPU time and resident memory of another process, read from /proc (Linux).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, nearly always 100). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface StatFields {
  ppid: number;
  /** user + system CPU seconds. */
  cpuSeconds: number;
}

function readStat(pid: number): StatFields | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return { ppid, cpuSeconds: (utime + stime) / ticksPerSecond() };
}

/** User + system CPU seconds used so far by `pid` (NaN once it is gone). */
export function cpuSeconds(pid: number): number {
  return readStat(pid)?.cpuSeconds ?? Number.NaN;
}

/** CPU seconds of `pid` and all its descendants alive right now (e.g. PostgreSQL and its backends). */
export function treeCpuSeconds(pid: number): number {
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (!stat) continue;
    cpu.set(Number(name), stat.cpuSeconds);
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(name));
    children.set(stat.ppid, list);
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    total += cpu.get(p) ?? 0;
    todo.push(...(children.get(p) ?? []));
  }
  return total;
}

/** Resident memory now and at its peak (VmRSS, VmHWM) in bytes. */
export function memory(pid: number): { rss: number; hwm: number } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return { rss: Number.NaN, hwm: Number.NaN };
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/**
 * Watches a process over a measured window: CPU seconds between start() and
 * stop(), and the largest resident memory seen by sampling every `everyMs`.
 */
export class ProcessWindow {
  private cpuStart = 0;
  private wallStart = 0;
  private timer?: NodeJS.Timeout;
  maxRss = 0;
  cpuUsed = 0;
  wallSeconds = 0;

  constructor(
    readonly pid: number,
    private readonly everyMs = 200,
    private readonly tree = false,
  ) {}

  private cpu(): number {
    return this.tree ? treeCpuSeconds(this.pid) : cpuSeconds(this.pid);
  }

  start(): void {
    this.cpuStart = this.cpu();
    this.wallStart = performance.now();
    this.maxRss = memory(this.pid).rss;
    if (!this.tree) {
      this.timer = setInterval(() => {
        const { rss } = memory(this.pid);
        if (rss > this.maxRss) this.maxRss = rss;
      }, this.everyMs);
      this.timer.unref();
    }
  }

  stop(): this {
    clearInterval(this.timer);
    this.cpuUsed = this.cpu() - this.cpuStart;
    this.wallSeconds = (performance.now() - this.wallStart) / 1000;
    if (!this.tree) this.maxRss = Math.max(this.maxRss, memory(this.pid).rss);
    return this;
  }

  /** CPU use over the window in % of one core. */
  get cpuPercent(): number {
    return this.wallSeconds > 0 ? (100 * this.cpuUsed) / this.wallSeconds : Number.NaN;
  }
}

/** This process's own CPU use (all threads) over a window, in % of one core. */
export class SelfCpu {
  private readonly start = process.cpuUsage();
  private readonly wall = performance.now();

  percent(): number {
    const used = process.cpuUsage(this.start);
    return (100 * ((used.user + used.system) / 1e6)) / ((performance.now() - this.wall) / 1000);
  }
}
