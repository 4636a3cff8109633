import type { Coordinator } from "../coordinator/coordinator.js";
import { MAX_REASON_LENGTH } from "../domain/limits.js";
import type { AdminServiceServer } from "../gen/orchestrator/v1/admin.js";
import type { Logger } from "../log/logger.js";
import type { ReplicaView } from "../leadership/replica-status.js";
import type { About } from "../status/about.js";
import { fleetStatus } from "../status/fleet-status.js";
import { instanceInfo, statusToMessage } from "./admin-mappers.js";
import { NotFoundError, unary } from "./unary.js";
import { FieldError } from "../domain/field-error.js";
import { checkId } from "../domain/ids.js";

/** Longest freeze accepted: a week; longer maintenance should be lifted by hand. */
const MAX_FREEZE_SECONDS = 7 * 24 * 3600;

/** Fleet calls: status, instances, drain, freeze and an immediate round. */
export function fleetHandlers(
  coordinator: Coordinator,
  logger: Logger,
  about: About,
  replica: ReplicaView,
): Pick<
  AdminServiceServer,
  "getStatus" | "listInstances" | "getInstance" | "drainInstance" | "undrainInstance" | "freezeRebalancing" | "unfreezeRebalancing" | "rebalance"
> {
  const entryOf = (field: string, id: string) => {
    const entry = coordinator.view.instance(checkId(field, id));
    if (!entry) throw new NotFoundError(`instance ${JSON.stringify(id)} not found`);
    return entry;
  };
  const drain = async (id: string, draining: boolean) => {
    const entry = entryOf("instance_id", id);
    if (!(await coordinator.setDraining(entry.id, draining))) throw new NotFoundError(`instance ${JSON.stringify(id)} not found`);
    return { instance: instanceInfo(entry, coordinator) };
  };

  return {
    getStatus: unary("GetStatus", logger, async () => statusToMessage(fleetStatus(coordinator, about, replica))),
    listInstances: unary("ListInstances", logger, async () => {
      const cutoff = coordinator.suspectCutoff();
      return { instances: coordinator.view.instancesById().map((e) => instanceInfo(e, coordinator, cutoff)) };
    }),
    getInstance: unary("GetInstance", logger, async (request) => {
      const entry = entryOf("instance_id", request.instanceId);
      const { view } = coordinator;
      const streams = [...view.ownedBy(entry.id)].sort().map((id) => {
        const ownership = view.owners.get(id)!;
        const stream = view.catalog.get(id);
        return { streamId: id, name: stream?.name ?? "", url: stream?.url ?? "", epoch: ownership.epoch, revoking: ownership.revoking };
      });
      return { instance: instanceInfo(entry, coordinator), streams };
    }),
    drainInstance: unary("DrainInstance", logger, (request) => drain(request.instanceId, true)),
    undrainInstance: unary("UndrainInstance", logger, (request) => drain(request.instanceId, false)),
    freezeRebalancing: unary("FreezeRebalancing", logger, async (request) => {
      if (request.durationSeconds > MAX_FREEZE_SECONDS) {
        throw new FieldError("duration_seconds", `must be at most ${MAX_FREEZE_SECONDS} (one week); use 0 to freeze until lifted`);
      }
      if (request.reason.length > MAX_REASON_LENGTH) throw new FieldError("reason", `must be at most ${MAX_REASON_LENGTH} characters`);
      const freeze = await coordinator.freezeRebalancing(request.durationSeconds ? request.durationSeconds * 1000 : null, request.reason);
      return { frozen: true, frozenUntil: freeze.until ?? undefined };
    }),
    unfreezeRebalancing: unary("UnfreezeRebalancing", logger, async () => ({ wasFrozen: await coordinator.unfreeze() })),
    rebalance: unary("Rebalance", logger, async () => {
      const decision = await coordinator.rebalanceNow();
      return {
        moves: [
          ...decision.grants.map((g) => ({ streamId: g.streamId, fromInstance: g.from ?? "", toInstance: g.instanceId, reason: g.reason, action: "assigned" })),
          ...decision.revocations.map((r) => ({ streamId: r.streamId, fromInstance: r.instanceId, toInstance: "", reason: r.reason, action: "revoking" })),
        ],
        deferred: decision.deferred,
        unassigned: decision.unassigned,
      };
    }),
  };
}
