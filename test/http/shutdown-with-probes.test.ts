import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startTestOrchestrator } from "../helpers/test-orchestrator.js";

describe("shutting down while a prober keeps asking", () => {
  test("a keep-alive connection that is never idle does not hold the stop up past the HTTP grace", async () => {
    const orchestrator = await startTestOrchestrator();
    let probing = true;
    // As load balancers or a replica sampler do: a few keep-alive connections (fetch keeps them), asking back to back.
    const prober = Promise.all(
      [0, 1, 2, 3].map(async () => {
        while (probing) await fetch(`${orchestrator.httpBase}/readyz`).then((r) => r.arrayBuffer(), () => undefined);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    await orchestrator.close();
    const tookMs = performance.now() - started;
    probing = false;
    await prober;
    // The HTTP grace is 1 s; the rest of the stop takes a few hundred ms. Without the bound it waits for ever.
    assert.ok(tookMs < 3_000, `stopped in ${Math.round(tookMs)} ms`);
  });
});
