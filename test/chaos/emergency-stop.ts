/**
 * What a chaos run must undo however it ends. A run that dies half-way (an
 * uncaught error, Ctrl-C, the session's terminal closing) would otherwise
 * leave a frozen PostgreSQL and an orchestrator behind, holding ports and
 * memory until someone finds them. Each undo is synchronous (signals only),
 * because on `exit` nothing asynchronous runs any more.
 */
type Undo = () => void;

const undos = new Set<Undo>();
let onExit = false;

function runAll(): void {
  for (const undo of [...undos].reverse()) {
    try {
      undo();
    } catch {
      // best effort: the next undo still runs
    }
  }
  undos.clear();
}

/**
 * For the chaos CLI only (a test runner has its own handlers): signals and
 * uncaught errors undo everything, say why, and exit non-zero.
 */
export function stopOnSignalsAndErrors(): void {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    process.on(signal, () => {
      process.stderr.write(`test:chaos: ${signal}, stopping what the run started\n`);
      runAll();
      process.exit(code);
    });
  }
  process.on("uncaughtException", (error) => {
    process.stderr.write(`test:chaos: uncaught ${error.stack ?? String(error)}\n`);
    runAll();
    process.exit(1);
  });
  process.on("unhandledRejection", (reason) => {
    process.stderr.write(`test:chaos: unhandled rejection ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`);
    runAll();
    process.exit(1);
  });
}

/**
 * Registers `undo` to run if the process ends before the returned function is
 * called (the normal clean-up path calls it once it has undone things itself).
 */
export function onEmergency(undo: Undo): () => void {
  if (!onExit) process.on("exit", runAll);
  onExit = true;
  undos.add(undo);
  return () => undos.delete(undo);
}
