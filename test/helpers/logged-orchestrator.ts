/**
 * An orchestrator in this process whose every log line is kept, for tests
 * that look at what it logged (no token in the log, no unhandled error).
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { OrchestratorApp } from "../../src/app.js";
import { loadConfig } from "../../src/config/config.js";
import { createTestDatabase } from "./test-database.js";

export interface LoggedOrchestrator {
  app: OrchestratorApp;
  grpc: string;
  http: string;
  /** Everything logged so far, one JSON object per line. */
  log(): string;
  close(): Promise<void>;
}

export async function startLoggedOrchestrator(env: Record<string, string>): Promise<LoggedOrchestrator> {
  const database = await createTestDatabase({ withSchema: true });
  let log = "";
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => ((log += chunk.toString()), done()) });
  const config = loadConfig({ DATABASE_URL: database.url, GRPC_PORT: "0", HTTP_PORT: "0", BIND_HOST: "127.0.0.1", LOG_FORMAT: "json", ...env }, false);
  const app = new OrchestratorApp(config, pino({ level: "debug" }, sink));
  const ports = await app.start();
  return {
    app,
    grpc: `127.0.0.1:${ports.grpc}`,
    http: `http://127.0.0.1:${ports.http}`,
    log: () => log,
    close: async () => {
      await app.stop();
      await database.drop();
    },
  };
}
