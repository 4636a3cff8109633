import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status, type sendUnaryData, type ServerUnaryCall, type ServiceError } from "@grpc/grpc-js";
import { AdminServiceService } from "../../src/gen/orchestrator/v1/admin.js";
import { withCallDeadlines } from "../../src/grpc/call-deadline.js";
import { createLogger } from "../../src/log/logger.js";
import { sleep } from "../helpers/wait.js";

type Handler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

const logger = createLogger({ level: "silent", format: "json" });

/** Calls `handler` as grpc-js would, with the client's deadline `deadlineMs` from now (Infinity: none); resolves with every answer it got within `settleMs`. */
async function callOnce(handler: Handler, deadlineMs: number, settleMs: number): Promise<Array<{ error: Partial<ServiceError> | null; at: number }>> {
  const started = Date.now();
  const answers: Array<{ error: Partial<ServiceError> | null; at: number }> = [];
  const call = { request: {}, getDeadline: () => (deadlineMs === Infinity ? Infinity : new Date(started + deadlineMs)) } as unknown as ServerUnaryCall<unknown, unknown>;
  handler(call, (error) => answers.push({ error, at: Date.now() - started }));
  await sleep(settleMs);
  return answers;
}

describe("every AdminService unary call has a server-side deadline", () => {
  const never = () => new Promise<never>(() => undefined);
  const late = (ms: number) => (_call: unknown, callback: sendUnaryData<unknown>) => void setTimeout(() => callback(null, {}), ms);

  test("a call that does not finish ends with UNAVAILABLE naming the method, the bound and what it waited for", async () => {
    const service = withCallDeadlines(AdminServiceService, { rebalance: () => void never() }, 150, logger) as unknown as Record<string, Handler>;
    const answers = await callOnce(service.rebalance!, Infinity, 400);
    assert.equal(answers.length, 1);
    assert.equal(answers[0]!.error?.code, status.UNAVAILABLE);
    assert.match(answers[0]!.error!.details!, /^Rebalance gave up after 150 ms \(ADMIN_CALL_TIMEOUT_MS\) waiting for the coordinator's scheduling round; it may still take effect$/);
    assert.ok(answers[0]!.at >= 140 && answers[0]!.at < 350, `answered after ${answers[0]!.at} ms`);
  });

  test("the client's own deadline, when sooner, ends it with DEADLINE_EXCEEDED", async () => {
    const service = withCallDeadlines(AdminServiceService, { getStatus: () => void never() }, 5_000, logger) as unknown as Record<string, Handler>;
    const answers = await callOnce(service.getStatus!, 100, 300);
    assert.equal(answers.length, 1);
    assert.equal(answers[0]!.error?.code, status.DEADLINE_EXCEEDED);
    assert.match(answers[0]!.error!.details!, /GetStatus reached the client's deadline/);
  });

  test("an answer in time goes through once; one after the deadline is dropped", async () => {
    const service = withCallDeadlines(AdminServiceService, { getStatus: late(20), listInstances: late(300) }, 150, logger) as unknown as Record<string, Handler>;
    assert.deepEqual((await callOnce(service.getStatus!, Infinity, 250)).map((a) => a.error), [null]);
    assert.deepEqual((await callOnce(service.listInstances!, Infinity, 450)).map((a) => a.error?.code), [status.UNAVAILABLE]);
  });

  test("streaming methods are left as they are", () => {
    const watchEvents = () => undefined;
    const service = withCallDeadlines(AdminServiceService, { watchEvents }, 150, logger);
    assert.equal(service.watchEvents, watchEvents);
  });
});
