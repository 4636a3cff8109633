import type { RoundDecision } from "./round-planner.js";

/**
 * The race between a hello and a round that is being written. The round may
 * give away streams the reconnecting instance owns; the hello must not hand
 * them back in its full set, since once the round lands they run elsewhere
 * and nothing would tell this instance to stop. Such streams are withheld
 * from the hello, and sent after all (see RoundSender.returnWithheld) if the
 * round fails or leaves them where they were.
 */
export class PendingTransfers {
  /** While a round is being written: streams it takes away from their owner, by stream id. */
  private readonly leaving = new Map<string, string>();
  /** Streams left out of a full set because they were leaving, by instance id. */
  private readonly withheld = new Map<string, Set<string>>();

  /** A round with this decision is being written. */
  begin(decision: RoundDecision): void {
    for (const g of decision.grants) if (g.from) this.leaving.set(g.streamId, g.from);
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
    const withheld = new Map(this.withheld);
    this.withheld.clear();
    return withheld;
  }
}
