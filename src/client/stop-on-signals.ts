/**
 * What an instance process should do on the signals a supervisor sends:
 * SIGTERM (a container runtime or systemd restarting or redeploying it) is a
 * restart, so the client leaves saying it will be back within
 * `restartReturnWithinMs` and its streams wait for the new process; SIGINT (an
 * operator's Ctrl-C) is a real shutdown, a plain leave, so its streams move at
 * once. Either way every stream is stopped first (`onStop`) and `then` runs
 * after the client closed (typically process.exit). A second signal while
 * closing is left to the process's default handling.
 */
import type { InstanceClient } from "./instance-client.js";

/** The part of `process` this needs (an emitter of signals), so tests can pass their own. */
export interface SignalSource {
  once(signal: "SIGTERM" | "SIGINT", listener: () => void): unknown;
  off(signal: "SIGTERM" | "SIGINT", listener: () => void): unknown;
}

export interface StopOnSignalsOptions {
  /** How long a restart may take (ms) before its streams move anyway; 0 makes SIGTERM a plain leave. Default 60000. */
  restartReturnWithinMs?: number;
  /** Runs once the client has closed, with the signal that closed it. */
  then?: (signal: "SIGTERM" | "SIGINT") => void;
  source?: SignalSource;
}

/** Installs the handlers; returns a function that removes them. */
export function stopOnSignals(client: InstanceClient, options: StopOnSignalsOptions = {}): () => void {
  const source = options.source ?? process;
  const returnWithinMs = options.restartReturnWithinMs ?? 60_000;
  const on = (signal: "SIGTERM" | "SIGINT") => () => {
    remove();
    const closing = signal === "SIGTERM" && returnWithinMs > 0 ? client.close("restart", { returnWithinMs }) : client.close("shutdown");
    void closing.finally(() => options.then?.(signal));
  };
  const handlers = { SIGTERM: on("SIGTERM"), SIGINT: on("SIGINT") };
  const remove = () => {
    source.off("SIGTERM", handlers.SIGTERM);
    source.off("SIGINT", handlers.SIGINT);
  };
  source.once("SIGTERM", handlers.SIGTERM);
  source.once("SIGINT", handlers.SIGINT);
  return remove;
}
