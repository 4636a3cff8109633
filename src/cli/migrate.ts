import { ConfigError, loadConfig, redactUrl } from "../config/config.js";
import { createDatabase, describeDatabaseError, waitForDatabase } from "../db/database.js";
import { startEmbeddedPostgres } from "../db/embedded-postgres.js";
import { migrateToLatest } from "../db/migrate.js";
import { createLogger } from "../log/logger.js";

/** `npm run migrate`: applies pending migrations to the configured database and exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const target = config.database;
  const embedded =
    target.kind === "embedded"
      ? await startEmbeddedPostgres({ dataDir: target.dataDir, port: target.port, logger })
      : undefined;
  const url = embedded?.url ?? (target.kind === "url" ? target.url : "");
  const { db, pool } = createDatabase({ url, schema: config.dbSchema, poolSize: 2, statementTimeoutMs: config.dbStatementTimeoutMs });
  try {
    await waitForDatabase(pool, config.dbConnectTimeoutMs).catch((error: unknown) => {
      throw new Error(`database ${redactUrl(url)} unreachable: ${describeDatabaseError(error)}`);
    });
    const applied = await migrateToLatest(db, config.dbSchema);
    logger.info({ applied, database: redactUrl(url) }, applied.length ? "migrations applied" : "already up to date");
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  const prefix = error instanceof ConfigError ? "configuration error" : "migration failed";
  process.stderr.write(`finger-orchestrator migrate: ${prefix}: ${(error as Error).message}\n`);
  process.exit(1);
});
