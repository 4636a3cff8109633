import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Db } from "../../src/db/database.js";
import { classifyDatabaseError, isTransient, QueryTimeoutError } from "../../src/db/database-errors.js";
import { inTransaction } from "../../src/db/transaction.js";

const withCode = (code: string, message = `failed (${code})`) => Object.assign(new Error(message), { code });

describe("database errors are classified in one place", () => {
  test("a database that cannot be reached, broke the connection, is restarting or full: unavailable, and worth a retry", () => {
    // node-postgres sets the socket error's code on what it throws, e.g. `connect ECONNREFUSED 127.0.0.1:5432`.
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]) {
      assert.deepEqual(classifyDatabaseError(withCode(code, `connect ${code} 127.0.0.1:5432`)), { kind: "unavailable", retry: true }, code);
    }
    for (const code of ["08000", "08003", "08006", "08001", "57P01", "57P02", "57P03", "53300"]) {
      assert.deepEqual(classifyDatabaseError(withCode(code)), { kind: "unavailable", retry: true }, code);
    }
    for (const message of ["Connection terminated unexpectedly", "Connection terminated", "timeout exceeded when trying to connect"]) {
      assert.deepEqual(classifyDatabaseError(new Error(message)), { kind: "unavailable", retry: true }, message);
    }
  });

  test("the socket error is found inside pg-pool's and net's wrappers", () => {
    const timeout = new Error("Connection terminated due to connection timeout", { cause: new Error("Connection terminated unexpectedly") });
    assert.equal(classifyDatabaseError(timeout)?.kind, "unavailable");
    const both = new AggregateError([withCode("ECONNREFUSED", "connect ECONNREFUSED ::1:5432"), withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432")], "");
    assert.deepEqual(classifyDatabaseError(both), { kind: "unavailable", retry: true });
    assert.equal(classifyDatabaseError(new Error("wrapped", { cause: withCode("57P01") }))?.kind, "unavailable");
  });

  test("serialization failures and deadlocks: a conflict, worth a retry", () => {
    assert.deepEqual(classifyDatabaseError(withCode("40001")), { kind: "conflict", retry: true });
    assert.deepEqual(classifyDatabaseError(withCode("40P01")), { kind: "conflict", retry: true });
  });

  test("a database that does not answer: unavailable, but not retried (the next attempt would wait as long)", () => {
    assert.deepEqual(classifyDatabaseError(new QueryTimeoutError(2_000)), { kind: "unavailable", retry: false });
    assert.deepEqual(classifyDatabaseError(new Error("Query read timeout")), { kind: "unavailable", retry: false });
    assert.deepEqual(classifyDatabaseError(withCode("57014", "canceling statement due to statement timeout")), { kind: "unavailable", retry: false });
    assert.equal(isTransient(new QueryTimeoutError(2_000)), false);
  });

  test("the request's own errors and wrong credentials are not the database's state", () => {
    for (const code of ["23503", "23505", "42P01", "42601", "28P01", "3D000", "22P02"]) {
      assert.equal(classifyDatabaseError(withCode(code)), undefined, code);
    }
    assert.equal(classifyDatabaseError(new Error("something else")), undefined);
    assert.equal(classifyDatabaseError("not an error"), undefined);
    assert.equal(classifyDatabaseError(undefined), undefined);
  });
});

describe("inTransaction retries what the classification calls transient", () => {
  /** A Db whose transactions run `work` with no database behind it. */
  const fakeDb = { transaction: () => ({ execute: (work: (trx: never) => Promise<unknown>) => work(undefined as never) }) } as unknown as Db;

  test("a refused connection (code ECONNREFUSED, as node-postgres reports it) is retried", async () => {
    let attempts = 0;
    const result = await inTransaction(fakeDb, async () => {
      attempts++;
      if (attempts < 3) throw withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432");
      return "done";
    });
    assert.equal(result, "done");
    assert.equal(attempts, 3);
  });

  test("a query timeout is not retried", async () => {
    let attempts = 0;
    await assert.rejects(
      inTransaction(fakeDb, async () => {
        attempts++;
        throw new QueryTimeoutError(1_000);
      }),
      QueryTimeoutError,
    );
    assert.equal(attempts, 1);
  });
});
