import type { RoundDecision } from "./round-planner.js";

/**
 * The race between a hello and a round that is being written. The round may
 * give away streams the reconnecting instance owns; the hello must not hand
 * them back in its full set, since once the round lands they run elsewhere
 * and nothing would tell this instance to stop. Such streams are withheld
 * from the hello, and sent after all (see returnWithheld in round-sender.ts) if the
 * round fails or leaves them where they were.
 */
export class PendingTransfers {
  /** While a round is being written: streams it takes away from their owner, by stream id. */
  private readonly leaving = new Map<string, string>();
  /** Streams left out of a full set because they were leaving, by instance id. */
  private withheld = new Map<string, Set<string>>();

  /** A round with this decision is being written; `ownerOf` says who owns a stream now. */
  begin(decision: RoundDecision, ownerOf: (streamId: string) => string | undefined): void {
    for (const g of decision.grants) {
      // Only a stream that still has an owner (an orphan's dead one) can be handed back by a hello.
      const owner = ownerOf(g.streamId);
      if (owner) this.leaving.set(g.streamId, owner);
    }
    for (const r of decision.releases) this.leaving.set(r.streamId, r.instanceId);
  }

  /** Of `streamIds` (owned by `instanceId`), those the round being written gives away; remembered until `end()`. */
  withhold(instanceId: string, streamIds: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const id of streamIds) if (this.leaving.get(id) === instanceId) out.add(id);
    if (out.size) this.withheld.set(instanceId, out);
    return out;
  }

  /** The round is written (or failed): what was withheld meanwhile, by instance. */
  end(): Map<string, Set<string>> {
    this.leaving.clear();
    const withheld = this.withheld;
    if (withheld.size) this.withheld = new Map();
    return withheld;
  }
}
