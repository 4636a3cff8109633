/** Where Ctrl-C can come from: a key read from the terminal, or a signal. */
export type InterruptSource = "Ctrl-C" | "SIGINT" | "SIGTERM";

const CTRL_C = 0x03;

/**
 * Calls `handler` on Ctrl-C, SIGINT or SIGTERM; returns a function that stops listening and
 * gives the terminal back.
 *
 * At a terminal, Ctrl-C normally makes the terminal send SIGINT to the whole foreground
 * process group, and the embedded PostgreSQL is in that group: it would shut down fast while
 * the orchestrator still needs it to let the instances leave. With stdin in raw mode the
 * terminal sends no signal; the key arrives as a byte and only this process hears it.
 */
export function onInterrupt(handler: (source: InterruptSource) => void, stdin: NodeJS.ReadStream = process.stdin): () => void {
  const onSigint = () => handler("SIGINT");
  const onSigterm = () => handler("SIGTERM");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  const raw = stdin.isTTY === true && typeof stdin.setRawMode === "function";
  const onData = (chunk: Buffer) => {
    if (chunk.includes(CTRL_C)) handler("Ctrl-C");
  };
  if (raw) {
    stdin.setRawMode(true);
    stdin.on("data", onData);
    stdin.resume();
  }
  return () => {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    if (raw) {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
    }
  };
}
