/** The shape both an in-memory session's and a gRPC session's assignments have. */
export interface AssignmentLike {
  full: boolean;
  add: ReadonlyArray<{ id: string; epoch: number }>;
  remove: readonly string[];
}

/** Streams (and epochs) an instance should be running after these assignments, in order. */
export function ownedStreams(assignments: Iterable<AssignmentLike>): Map<string, number> {
  const owned = new Map<string, number>();
  for (const a of assignments) {
    if (a.full) owned.clear();
    for (const id of a.remove) owned.delete(id);
    for (const s of a.add) owned.set(s.id, s.epoch);
  }
  return owned;
}
