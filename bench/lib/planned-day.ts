/**
 * The compressed day of bench/planned.ts: a cold start, a rolling deploy of every worker,
 * 10 % of the workers crashing (back as new processes 10 s later), an orchestrator restart,
 * a database restart, a database outage and two network blips, at fixed fractions of the
 * day, all measured as one coverage window from the first worker's start to the day's end.
 */
import { sleep } from "../../test/helpers/wait.js";
import { blip, runScenario, type Common, type Phase, type ScenarioResult, type Variant } from "./planned-scenarios.js";

export interface DayOptions {
  instances: number;
  streams: number;
  dayMs: number;
  strict: boolean;
}

export function compressedDay(o: DayOptions, v: Variant, c: Common): Promise<ScenarioResult> {
  const kind = o.strict ? "strict" : "non-strict";
  return runScenario(`compressed day ${o.dayMs / 1000} s, ${kind}`, v, c, { streams: o.streams, strict: o.strict, viaProxy: true, coldStartOf: o.instances }, async (run) => {
    const t0 = performance.now();
    run.meter.begin(t0);
    // Each event starts a phase that lasts until the next one; the breakdown sums each up alone.
    const phases: Phase[] = [];
    const at = async (fraction: number, what: string): Promise<void> => {
      const wait = t0 + fraction * o.dayMs - performance.now();
      if (wait > 0) await sleep(wait);
      const now = performance.now();
      const last = phases[phases.length - 1];
      if (last) last.to = now;
      if (fraction < 1) phases.push({ name: what, from: now, to: now });
      c.log(`  ${((now - t0) / 1000).toFixed(1)} s: ${what}`);
    };
    await at(0, `cold start of ${o.instances} workers over 3 s`);
    await run.arrive(o.instances, c.capacity, 3_000);

    await at(0.1, "rolling deploy of every worker (1 s away each, 0.5 s apart)");
    for (const id of run.fleet.ids) {
      await run.fleet.restart(id, 1_000, v.returnWithinMs);
      await sleep(500);
    }

    await at(0.35, "10 % of the workers crash; new processes 10 s later");
    const crashed = run.fleet.ids.filter((_, i) => i % 10 === 0);
    for (const id of crashed) run.fleet.crash(id);
    await sleep(10_000);
    for (const id of crashed) run.fleet.spawn(id, c.capacity);

    await at(0.5, "orchestrator restart (SIGTERM)");
    await run.orchestrator.restart();

    await at(0.6, "database restart");
    await run.database.restart();

    await at(0.7, "database outage for 10 s");
    await run.database.stop();
    await sleep(10_000);
    await run.database.up();

    await at(0.8, "network blip, 2 s");
    await blip(run, 2_000);
    await at(0.9, "network blip, 2 s");
    await blip(run, 2_000);

    await at(1, "end of the day");
    return { settledMs: Number.NaN, phases };
  });
}
