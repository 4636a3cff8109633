import { BEARER_TOKEN_RULE, isBearerToken } from "../domain/bearer-token.js";
import type { InstanceClientOptions } from "./types.js";
import { resolveBackoff } from "./backoff.js";
import { idProblem } from "../domain/ids.js";
import { MAX_CAPACITY } from "../domain/limits.js";
import { parseAddresses } from "./orchestrator-addresses.js";

function check(ok: boolean, message: string): void {
  if (!ok) throw new TypeError(`InstanceClient: ${message}`);
}

function isDelay(value: number | undefined, min = 0): boolean {
  return value === undefined || (Number.isFinite(value) && value >= min);
}

/**
 * Rejects options the orchestrator would refuse anyway (its hello limits) or that would make
 * the client misbehave, at construction time rather than as a `rejected` event later.
 */
export function validateOptions(o: InstanceClientOptions): void {
  try {
    parseAddresses(o.address);
  } catch (error) {
    check(false, (error as Error).message);
  }
  check(o.resolver === undefined || typeof o.resolver === "function", "resolver must be a function");
  check(o.token === undefined || (typeof o.token === "string" && isBearerToken(o.token)), `token ${BEARER_TOKEN_RULE}`);
  check(typeof o.instanceId === "string" && idProblem(o.instanceId) === undefined,
    `instanceId ${typeof o.instanceId === "string" ? idProblem(o.instanceId) : "must be a string"}`);
  check(Number.isInteger(o.capacity) && o.capacity >= 0 && o.capacity <= MAX_CAPACITY,
    `capacity must be an integer from 0 to ${MAX_CAPACITY}`);
  check(typeof o.onStart === "function", "onStart must be a function");
  check(typeof o.onStop === "function", "onStop must be a function");
  check(isDelay(o.welcomeTimeoutMs, 1), "welcomeTimeoutMs must be a finite number >= 1");
  check(isDelay(o.closeTimeoutMs), "closeTimeoutMs must be a finite number >= 0");
  check(isDelay(o.superseded?.delayMs), "superseded.delayMs must be a finite number >= 0");
  for (const [key, value] of Object.entries(o.labels ?? {})) {
    check(typeof value === "string", `label "${key}" must be a string`);
  }
  resolveBackoff(o.backoff);
}
