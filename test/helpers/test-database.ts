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

/**
 * The database `npm test` migrated once (TEST_SCHEMA_TEMPLATE): a database
 * copied from it has the schema already, which costs the server less than
 * migrating each one.
 */
export const SCHEMA_TEMPLATE_VARIABLE = "TEST_SCHEMA_TEMPLATE";

/**
 * Set by `npm test` when the server is its own and thrown away at the end:
 * then test databases are not dropped one by one, as each DROP DATABASE
 * waits for a checkpoint (about a second of the server's time each).
 */
export const THROWAWAY_SERVER_VARIABLE = "TEST_SERVER_THROWAWAY";

/** Creates the schema template on the server at `url` (see SCHEMA_TEMPLATE_VARIABLE); returns its name. */
export async function createSchemaTemplate(url: string): Promise<string> {
  const name = `finger_schema_template_${randomBytes(4).toString("hex")}`;
  await withClient(url, (c) => c.query(`create database ${name}`));
  const target = new URL(url);
  target.pathname = `/${name}`;
  const { db } = createDatabase({ url: target.toString(), poolSize: 1, statementTimeoutMs: 30_000 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  return name;
}

/**
 * Creates a uniquely named database so test files never see each other's
 * rows: empty, or with the orchestrator's schema when `withSchema` (copied
 * from the template when there is one; an orchestrator or migrateToLatest
 * then finds nothing to do, and migrates it otherwise).
 */
export async function createTestDatabase(options: { withSchema?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const template = options.withSchema ? process.env[SCHEMA_TEMPLATE_VARIABLE] : undefined;
  await admin((c) => c.query(template ? `create database ${name} template ${template}` : `create database ${name}`));
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      if (process.env[THROWAWAY_SERVER_VARIABLE] === "1") return;
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/**
 * A fresh database with the orchestrator's schema, and a Kysely handle on it,
 * for repository tests: call in `before`, and `close()` in `after`.
 */
export async function migratedTestDatabase(): Promise<{ database: TestDatabase; db: Db; close(): Promise<void> }> {
  const database = await createTestDatabase({ withSchema: true });
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
