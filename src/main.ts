import { OrchestratorApp, StartupError } from "./app.js";
import { ConfigError, loadConfig } from "./config/config.js";
import { createLogger } from "./log/logger.js";

/** Prints a configuration or start-up mistake as one line and exits 1. */
function fail(message: string): never {
  process.stderr.write(`finger-orchestrator: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const app = new OrchestratorApp(config, logger);

  /** A shutdown that does not end in time ends the process anyway, with status 1. */
  const stopWithin = (ms: number, then: () => void = () => process.exit(1)) => {
    const deadline = setTimeout(() => {
      logger.error("shutdown took too long: exiting");
      then();
    }, ms);
    deadline.unref();
  };
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "shutting down");
    stopWithin(config.shutdownTimeoutMs);
    app.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  // A replica that lost its leadership ends (exit 1), to be started again as a standby by its supervisor.
  app.onLeadershipLost((error) => {
    const exit = () => fail(`${error.message}; exiting so that this replica is restarted as a standby`);
    // A deposed leader has nothing to drain, but its pool may wait on a query to an unreachable database.
    stopWithin(config.shutdownTimeoutMs, exit);
    app.stop().then(exit, exit);
  });
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  // Every intended end calls process.exit. An event loop that runs empty means a step
  // awaits what can no longer happen (e.g. the exit of a child that already exited):
  // without this node would end with code 0, and no supervisor would restart it.
  let started = false;
  process.on("beforeExit", () => {
    if (app.stopRequested) {
      logger.error("shutdown stopped half-way with nothing left to wait for");
      process.exit(1);
    }
    fail(started ? "stopped serving with nothing left to wait for" : "cannot start: start-up stopped half-way with nothing left to wait for (LOG_LEVEL=debug shows its last steps)");
  });

  try {
    await app.start();
    started = true;
  } catch (error) {
    // A signal during start-up: the signal handler stops and exits.
    if (app.stopRequested) return;
    if (error instanceof StartupError) {
      logger.flush?.();
      fail(`cannot start: ${error.message}`);
    }
    throw error;
  }
}

void main();
