/**
 * The leadership term this process's pooled connections write for. Every
 * connection tells PostgreSQL its term (the session setting `finger.term`)
 * before it is handed out, and the database refuses writes of any other term
 * (the fence_writes trigger, migrations/20261202000000_leadership_and_write_fence.ts).
 * Before an election the pool names no term (migrations run then); a standby
 * names term 0, which no write passes.
 */
export class WriteTerm {
  private current: number | undefined;
  private readonly listeners: Array<(error: Error) => void> = [];

  /** The term connections claim; undefined until the process knows its role. */
  get value(): number | undefined {
    return this.current;
  }

  /** From now on connections write for `term` (0: for nobody). */
  claim(term: number): void {
    this.current = term;
  }

  /** Called with the database's refusal the first time (and every time) a write of a stale term is refused. */
  onFenced(listener: (error: Error) => void): void {
    this.listeners.push(listener);
  }

  /** Passes a refused write on to the listeners; the caller still sees the error. */
  fenced(error: Error): void {
    for (const listener of this.listeners) listener(error);
  }
}

/** The SQLSTATE fence_writes raises with. */
export const FENCED_SQLSTATE = "FT001";

/** True for the database's refusal of a write from a term that is over. */
export function isFencedWrite(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === FENCED_SQLSTATE;
}
