import type { InstanceMetrics } from "../coordinator/types.js";
import type { SystemMetrics } from "../gen/orchestrator/v1/orchestrator.js";

/** Proto field (camelCase in generated code) and the legacy snake_case name kept in storage. */
export const METRIC_NAMES = [
  ["cpuPercent", "cpu_percent"],
  ["memoryPercent", "memory_percent"],
  ["memoryUsedGb", "memory_used_gb"],
  ["memoryTotalGb", "memory_total_gb"],
  ["diskPercent", "disk_percent"],
  ["diskFreeGb", "disk_free_gb"],
  ["diskTotalGb", "disk_total_gb"],
  ["uptimeSeconds", "uptime_seconds"],
] as const;

/**
 * Keeps only the metrics the instance actually sent, under their legacy
 * names: finite numbers only (NaN and infinities cannot be stored as JSON),
 * and the three load averages at most.
 */
export function metricsFromMessage(m: SystemMetrics | undefined): InstanceMetrics | null {
  if (!m) return null;
  const out: InstanceMetrics = {};
  for (const [field, name] of METRIC_NAMES) {
    const value = m[field];
    if (value !== undefined && Number.isFinite(value)) out[name] = value;
  }
  // Every heartbeat passes here: one array, not a slice and a filter of it.
  const load: number[] = [];
  for (let i = 0; i < m.loadAverage.length && i < 3; i++) if (Number.isFinite(m.loadAverage[i])) load.push(m.loadAverage[i]!);
  if (load.length) out.load_average = load;
  return out;
}

/** Metrics kept with legacy snake_case names, back to the proto message. */
export function metricsToMessage(metrics: Record<string, number | number[]> | null): SystemMetrics | undefined {
  if (!metrics) return undefined;
  const out: SystemMetrics = { loadAverage: Array.isArray(metrics.load_average) ? metrics.load_average : [] };
  for (const [field, name] of METRIC_NAMES) {
    const value = metrics[name];
    if (typeof value === "number") out[field] = value;
  }
  return out;
}
