import type { GrantedStream } from "./types.js";

/** What one incremental assignment message tells an instance: streams to start and to stop. */
export interface AssignmentChange {
  add: GrantedStream[];
  remove: string[];
}

/** Changes collected per instance, so each instance gets one message for a batch of them. */
export class AssignmentChanges {
  private readonly byInstance = new Map<string, AssignmentChange>();

  /** The change for `instanceId`, created empty on first use. */
  for(instanceId: string): AssignmentChange {
    let change = this.byInstance.get(instanceId);
    if (!change) this.byInstance.set(instanceId, (change = { add: [], remove: [] }));
    return change;
  }

  entries(): IterableIterator<[string, AssignmentChange]> {
    return this.byInstance.entries();
  }
}
