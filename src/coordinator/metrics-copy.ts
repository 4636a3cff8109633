import type { InstanceMetrics } from "./types.js";

/**
 * Copies the latest heartbeat metrics into the object an instance already
 * holds, and returns it (a fresh copy the first time). Heartbeats arrive every
 * second from every instance; a new object each time would live just long
 * enough to be promoted to the old generation, and ten thousand of them a
 * second make major collections frequent. The copy's arrays and values are
 * its own, never the heartbeat's.
 */
export function copyMetricsInto(into: InstanceMetrics | null, metrics: InstanceMetrics): InstanceMetrics {
  if (!into) return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]));
  // for...in: no key arrays allocated on this per-heartbeat path.
  for (const key in into) if (!(key in metrics)) delete into[key];
  for (const key in metrics) {
    const value = metrics[key]!;
    const held = into[key];
    if (!Array.isArray(value)) into[key] = value;
    else if (Array.isArray(held) && held.length === value.length) for (let i = 0; i < value.length; i++) held[i] = value[i]!;
    else into[key] = [...value];
  }
  return into;
}
