import type { Snapshot } from "./simulation.js";
import { formatMs, formatPercent } from "./stats.js";

/** Where the view writes: `process.stdout`, or anything shaped like it. */
export interface ViewOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const CLEAR_LINE = "\x1b[2K";
const cursorUp = (n: number) => (n > 0 ? `\x1b[${n}A` : "");

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function failoverText(s: Snapshot): string {
  const f = s.failovers;
  const figures = f.summary ? ` · p50 ${formatMs(f.summary.p50)} · p99 ${formatMs(f.summary.p99)} · max ${formatMs(f.summary.max)}` : "";
  return `${f.recovered} done · ${f.pending} pending${figures}`;
}

function statusText(s: Snapshot): string {
  if (s.status?.streams) return `GetStatus ${s.status.streams.assigned} assigned, ${s.status.streams.unassigned} unassigned`;
  return s.statusError ? `GetStatus failed: ${s.statusError}` : "GetStatus pending";
}

/** The block a terminal shows, redrawn in place every sample. */
export function renderBlock(s: Snapshot): string[] {
  const st = s.states;
  const head =
    s.phase === "setup"
      ? `simulate · setup: ${s.step}`
      : `simulate · ${s.phase === "closing" ? "closing instances" : "running"} · ${seconds(Math.min(s.elapsedMs, s.durationMs))} of ${seconds(s.durationMs)}`;
  const balance = s.balance ? `spread ${s.balance.spread.toFixed(1)} streams · load ${formatPercent(s.balance.minLoad)} – ${formatPercent(s.balance.maxLoad)}` : "spread –";
  return [
    head,
    `  instances  ${st.up} up · ${st.connecting} connecting · ${st.partitioned} partitioned · ${st.down} down · ${st.dead} dead · ${st.leaving + st.left} left`,
    `  streams    ${s.served} of ${s.streams} running on up instances · ${statusText(s)} · ${s.moves} moves`,
    `  failovers  ${failoverText(s)}`,
    `  health     ${s.violations} violations · ${balance}`,
  ];
}

/** The single line a log file gets every sample. */
export function renderLine(s: Snapshot): string {
  const st = s.states;
  const t = s.phase === "setup" ? `setup (${s.step})` : `t=${seconds(s.elapsedMs)}`;
  const unassigned = s.status?.streams ? String(s.status.streams.unassigned) : "?";
  const f = s.failovers;
  const figures = f.summary ? ` p50=${formatMs(f.summary.p50)} max=${formatMs(f.summary.max)}` : "";
  const spread = s.balance ? s.balance.spread.toFixed(1) : "-";
  return (
    `${t} up=${st.up} connecting=${st.connecting} partitioned=${st.partitioned} down=${st.down} dead=${st.dead} left=${st.leaving + st.left}` +
    ` running=${s.served}/${s.streams} unassigned=${unassigned} moves=${s.moves}` +
    ` failovers=${f.recovered}/${f.measured}${figures} violations=${s.violations} spread=${spread}`
  );
}

/**
 * The live summary. On a terminal it redraws a small block in place (cursor up, clear line)
 * with notes scrolling above it; anywhere else it writes one plain line per sample and one
 * per note, so logs and pipes stay readable.
 */
export class LiveView {
  readonly #out: ViewOutput;
  readonly #tty: boolean;
  #drawn = 0;
  #last: string[] = [];

  constructor(out: ViewOutput, options: { tty?: boolean } = {}) {
    this.#out = out;
    this.#tty = options.tty ?? out.isTTY === true;
  }

  update(snapshot: Snapshot): void {
    if (!this.#tty) {
      this.#out.write(`${renderLine(snapshot)}\n`);
      return;
    }
    this.#last = renderBlock(snapshot);
    this.#redraw([]);
  }

  /** A line that stays: a fault that fired, a setup step, a warning. */
  note(text: string): void {
    if (!this.#tty) this.#out.write(`${text}\n`);
    else this.#redraw([text]);
  }

  /** Leaves the last block on screen; later output starts below it. */
  finish(): void {
    this.#drawn = 0;
    this.#last = [];
  }

  #redraw(notes: string[]): void {
    // Lines wider than the terminal would wrap and break the cursor-up arithmetic.
    // A pseudo-terminal without a window size reports 0 columns.
    const width = Math.max(40, (this.#out.columns || 120) - 1);
    const fit = (line: string) => (line.length > width ? `${line.slice(0, width - 1)}…` : line);
    const lines = [...notes, ...this.#last].map((l) => `${CLEAR_LINE}${fit(l)}\n`);
    this.#out.write(cursorUp(this.#drawn) + lines.join(""));
    this.#drawn = this.#last.length;
  }
}
