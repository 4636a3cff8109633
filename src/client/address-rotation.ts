import type { Logger } from "pino";
import { endpointKey } from "./address-resolver.js";
import { Backoff } from "./backoff.js";
import { splitHostPort } from "./orchestrator-addresses.js";
import type { BackoffOptions, Endpoint } from "./types.js";

/** How the call to the endpoint last taken ended, as far as choosing where and when to go next. */
export interface AttemptEnd {
  /** The call had been welcomed: that endpoint was the leader. */
  welcomed: boolean;
  /** Set when the server sent go_away. */
  goAway?: { reconnectAfterMs: number; leaderAddress: string } | undefined;
}

/**
 * Where the client connects next, and after how long. With several orchestrator replicas only
 * the leader welcomes; a standby answers at once with go_away (often naming the leader), so the
 * addresses are tried one after another without waiting, and the reconnect backoff is paid once
 * per full cycle through them: a cycle of standbys costs a few round trips, not a second each.
 *
 * - A cycle is the endpoints the addresses stand for (resolved again for every cycle), in order;
 *   after a welcome, the next cycle starts at the endpoint that welcomed (a blip or a restart of
 *   the leader is the common case), or, when that leader said go_away, ends with it.
 * - A go_away naming the leader sends the next attempt there at once, once, outside the cycle;
 *   then the cycle resumes. Replicas naming each other in a loop (each believing the other
 *   leads) are cut off after more hints in a row than the cycle has endpoints, plus one.
 * - A welcomed session that broke waits the backoff (the same endpoint, as with one address); a
 *   go_away waits what the server asked for, and also the backoff when it ends a cycle.
 */
export class AddressRotation {
  readonly #expand: () => Promise<Endpoint[]>;
  readonly #backoff: Backoff;
  readonly #log: Logger;
  /** What is left of the cycle in progress; undefined until the next one begins (nothing of it tried yet). */
  #cycle: Endpoint[] | undefined;
  #cycleSize = 1;
  #hint: Endpoint | undefined;
  #hints = 0;
  #current: Endpoint | undefined;
  /** The endpoint that welcomed last, and whether the next cycle ends with it instead of starting there. */
  #anchor: Endpoint | undefined;
  #anchorLast = false;

  /** `expand`: the endpoints of a new cycle (at least one); `random`: the backoff's jitter, as `Math.random`. */
  constructor(expand: () => Promise<Endpoint[]>, backoff: BackoffOptions | undefined, log: Logger, random: () => number = Math.random) {
    this.#expand = expand;
    this.#backoff = new Backoff(backoff, random);
    this.#log = log;
  }

  /** The endpoint last taken (being dialled, or connected). */
  get current(): Endpoint | undefined {
    return this.#current;
  }

  /** The endpoint to dial now. */
  async take(): Promise<Endpoint> {
    let endpoint = this.#hint;
    this.#hint = undefined;
    if (!endpoint) {
      // An exhausted cycle normally ended in #endCycle already; a new one begins either way.
      if (!this.#cycle?.length) this.#cycle = await this.#newCycle();
      endpoint = this.#cycle.shift()!;
    }
    this.#current = endpoint;
    return endpoint;
  }

  /** The current endpoint welcomed the instance: it leads; backoff and hint chain start over. */
  welcomed(): void {
    this.#backoff.reset();
    this.#anchor = this.#current;
    this.#anchorLast = false;
    this.#cycle = undefined;
    this.#hints = 0;
  }

  /** Records how the attempt ended; returns the milliseconds to wait before the next `take()`. */
  after(end: AttemptEnd): number {
    const asked = end.goAway?.reconnectAfterMs ?? 0;
    // The leader itself is going away (a restart, or it lost the leadership): try the others first.
    if (end.welcomed && end.goAway) this.#anchorLast = true;
    const hint = this.#leaderHint(end.goAway?.leaderAddress ?? "");
    if (hint) {
      if (this.#hints < this.#cycleSize + 1) {
        this.#hints++;
        this.#hint = hint;
        // Tried now, so not again later in this cycle (a standby naming the next address on the list).
        this.#cycle = this.#cycle?.filter((endpoint) => endpoint.address !== hint.address);
        this.#log.info({ leaderAddress: hint.address, from: this.#current?.address }, "following the orchestrator's go_away to the leader");
        return 0;
      }
      this.#log.warn({ leaderAddress: hint.address, hints: this.#hints }, "replicas keep naming each other as the leader; backing off");
      return this.#endCycle(asked);
    }
    if (end.welcomed) return end.goAway ? asked : this.#endCycle(0);
    return this.#cycle === undefined || this.#cycle.length > 0 ? asked : this.#endCycle(asked);
  }

  #endCycle(asked: number): number {
    this.#cycle = undefined;
    this.#hints = 0;
    return Math.max(asked, this.#backoff.next());
  }

  /** The leader a go_away named, unless it names none, nothing dialable, or the endpoint that sent it. */
  #leaderHint(leaderAddress: string): Endpoint | undefined {
    const address = leaderAddress.trim();
    if (address === "" || address === this.#current?.address) return undefined;
    if (!splitHostPort(address)) {
      this.#log.warn({ leaderAddress }, "ignoring a go_away's leader address that is not host:port");
      return undefined;
    }
    return { address };
  }

  async #newCycle(): Promise<Endpoint[]> {
    const endpoints = [...(await this.#expand())]; // a copy: the cycle is used up as it goes
    this.#cycleSize = endpoints.length;
    const anchor = this.#anchor;
    if (!anchor) return endpoints;
    const at = endpoints.findIndex((endpoint) => endpointKey(endpoint) === endpointKey(anchor));
    // A leader reached through a hint is no configured address: it comes first after a blip, not at all after its go_away.
    if (at < 0) return this.#anchorLast ? endpoints : [anchor, ...endpoints];
    const rotated = [...endpoints.slice(at), ...endpoints.slice(0, at)];
    return this.#anchorLast ? [...rotated.slice(1), anchor] : rotated;
  }
}
