import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FileMigrationProvider, Migrator, sql, type MigrationResult } from "kysely";
import { DEFAULT_SCHEMA, type Db } from "./database.js";

/** The `migrations/` folder at the project root (also after compilation to dist/). */
export const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");

/**
 * Applies every pending migration in order, in the orchestrator's own schema, each in its own transaction.
 * Kysely serialises concurrent runs with an advisory lock, so replicas may race safely.
 * @returns the names of the migrations applied now.
 */
export async function migrateToLatest(db: Db, schema = DEFAULT_SCHEMA): Promise<string[]> {
  // The pool's search_path names this schema; it must exist before the first table is made.
  await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  const migrator = new Migrator({
    db,
    migrationTableSchema: schema,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: migrationsFolder }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === "Error");
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed?.migrationName ?? "(unknown)"} failed: ${reason}`);
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
