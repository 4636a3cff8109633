export { plan } from "./plan.js";
export { planByIds } from "./plan-by-ids.js";
export type { InstanceSpec, Move, PlanByIdsInput, PlanByIdsResult } from "./plan-by-ids.js";
export { computeQuotas } from "./quota.js";
export type { PlanInput, PlanResult, PlanStats } from "./types.js";
