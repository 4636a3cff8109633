import { OrchestratorApp } from "../../src/app.js";
import { loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/log/logger.js";
import { createTestDatabase, type TestDatabase } from "./test-database.js";

/** An orchestrator running in this process on its own fresh database and free ports. */
export interface TestOrchestrator {
  app: OrchestratorApp;
  database: TestDatabase;
  grpcAddress: string;
  httpBase: string;
  /** Stops the orchestrator and drops its database. */
  close(): Promise<void>;
}

/** Starts an orchestrator for a test; `env` overrides configuration variables. */
export async function startTestOrchestrator(
  env: Record<string, string> = {},
  database?: TestDatabase,
): Promise<TestOrchestrator> {
  const db = database ?? (await createTestDatabase({ withSchema: true }));
  const config = loadConfig(
    {
      DATABASE_URL: db.url,
      GRPC_PORT: "0",
      HTTP_PORT: "0",
      BIND_HOST: "127.0.0.1",
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
      LOG_FORMAT: "json",
      ...env,
    },
    false,
  );
  const app = new OrchestratorApp(config, createLogger({ level: config.logLevel, format: "json" }));
  const ports = await app.start();
  return {
    app,
    database: db,
    grpcAddress: `127.0.0.1:${ports.grpc}`,
    httpBase: `http://127.0.0.1:${ports.http}`,
    close: async () => {
      await app.stop();
      if (!database) await db.drop();
    },
  };
}
