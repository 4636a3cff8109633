import { randomBytes } from "node:crypto";
import pg from "pg";
import { createDatabase, type Db } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrate.js";

/** The server `npm test` started (or DATABASE_URL), where each test file makes its own database. */
export function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error("run tests through `npm test`, which provides TEST_DATABASE_URL");
  return url;
}

/** A fresh, empty database on the test server, dropped by `drop()`. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Runs `fn` on a connection of its own to `url`, closed afterwards. */
async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(serverUrl(), fn);
}

/** The rows of one query on `url`, read over a connection of its own (to look at what a process wrote). */
export function queryRows<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  return withClient(url, async (client) => (await client.query<R>(text, values)).rows);
}

/** Creates a uniquely named database so test files never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

/**
 * A fresh database with the orchestrator's schema, and a Kysely handle on it,
 * for repository tests: call in `before`, and `close()` in `after`.
 */
export async function migratedTestDatabase(): Promise<{ database: TestDatabase; db: Db; close(): Promise<void> }> {
  const database = await createTestDatabase();
  const { db } = createDatabase({ url: database.url, poolSize: 2, statementTimeoutMs: 5_000 });
  await migrateToLatest(db);
  return {
    database,
    db,
    close: async () => {
      await db.destroy();
      await database.drop();
    },
  };
}
