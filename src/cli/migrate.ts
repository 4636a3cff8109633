import { ConfigError, loadConfig, redactUrl } from "../config/config.js";
import { openDatabase } from "../db/open-database.js";
import { createLogger } from "../log/logger.js";

/** `npm run migrate`: applies pending migrations to the configured database and exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const database = await openDatabase(config, logger, 2);
  await database.close();
  logger.info(
    { applied: database.applied, database: redactUrl(database.url) },
    database.applied.length ? "migrations applied" : "already up to date",
  );
}

main().catch((error: unknown) => {
  const prefix = error instanceof ConfigError ? "configuration error" : "migration failed";
  process.stderr.write(`finger-orchestrator migrate: ${prefix}: ${(error as Error).message}\n`);
  process.exit(1);
});
