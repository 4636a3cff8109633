import type pg from "pg";
import { redactUrl, type Config } from "../config/config.js";
import type { Logger } from "../log/logger.js";
import { createDatabase, waitForDatabase, type Db } from "./database.js";
import { describeDatabaseError } from "./database-errors.js";
import type { EmbeddedDatabase } from "./embedded-postgres.js";
import { migrateToLatest } from "./migrate.js";
import type { WriteTerm } from "./write-term.js";

/** A database ready for use: reachable and migrated. */
export interface OpenDatabase {
  url: string;
  db: Db;
  pool: pg.Pool;
  /** Migrations applied by this start (empty when already up to date). */
  applied: string[];
  /** Closes the pool, then stops the embedded server if one was started. */
  close(): Promise<void>;
}

async function startEmbedded(config: Config, logger: Logger): Promise<EmbeddedDatabase> {
  const target = config.database;
  if (target.kind !== "embedded") throw new Error("not an embedded database target");
  // Loaded only when used: it brings PostgreSQL binaries and process hooks along.
  const { startEmbeddedPostgres } = await import("./embedded-postgres.js").catch(() => {
    throw new Error("no database configured and embedded PostgreSQL is not installed in this build: set DATABASE_URL or POSTGRES_HOST");
  });
  const embedded = await startEmbeddedPostgres({ dataDir: target.dataDir, port: target.port, logger });
  logger.info({ database: redactUrl(embedded.url), dataDir: target.dataDir }, "using embedded PostgreSQL");
  return embedded;
}

/**
 * Opens the configured database (starting the embedded server when no URL is
 * configured), waits until it answers and applies pending migrations. What
 * the orchestrator and `npm run migrate` both do before anything else. On
 * failure everything it started is stopped again and the error names the
 * database (password hidden) and the cause.
 */
export async function openDatabase(config: Config, logger: Logger, poolSize: number, writeTerm?: WriteTerm): Promise<OpenDatabase> {
  const target = config.database;
  let embedded: EmbeddedDatabase | undefined;
  if (target.kind === "url") logger.info({ database: redactUrl(target.url) }, "using external PostgreSQL");
  else embedded = await startEmbedded(config, logger);
  const url = embedded?.url ?? (target.kind === "url" ? target.url : "");
  let created: { db: Db; pool: pg.Pool } | undefined;
  const close = async () => {
    try {
      await created?.db.destroy();
    } finally {
      await embedded?.stop();
    }
  };
  try {
    created = createDatabase({
      url,
      schema: config.dbSchema,
      poolSize,
      statementTimeoutMs: config.dbStatementTimeoutMs,
      queryTimeoutMs: config.dbQueryTimeoutMs,
      ...(writeTerm ? { writeTerm } : {}),
    });
    const { db, pool } = created;
    await waitForDatabase(pool, config.dbConnectTimeoutMs).catch((error: unknown) => {
      throw new Error(`database ${redactUrl(url)} unreachable: ${describeDatabaseError(error)}`);
    });
    const applied = await migrateToLatest(db, config.dbSchema).catch((error: unknown) => {
      throw new Error(`migrating database ${redactUrl(url)} failed: ${(error as Error).message}`);
    });
    return { url, db, pool, applied, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
