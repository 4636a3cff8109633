/**
 * Load instances that reach whichever orchestrator replica leads, the way the
 * TypeScript instance client does: each instance has the client's own
 * AddressRotation (src/client/address-rotation.ts) over the replicas'
 * addresses, so a go_away's leader_address is dialled next at once, otherwise
 * the addresses are tried in order with the client's backoff once per full
 * cycle, and a welcomed session that broke comes back to the same replica
 * first. Reusing the client's rotation, rather than a simpler loop of the
 * benchmark's own, makes the measured reconnect time the one a real fleet pays.
 *
 * Each instance has a channel (a TCP connection) of its own to each replica that
 * answered it, kept for the run; a channel that could not connect is closed at
 * once. The client keeps one channel at a time and closes it when it moves, but
 * each real instance does that in a process of its own: a harness that opened a
 * thousand new channels per takeover stalled its own event loop for up to 2 s
 * (measured), and one that kept channels to a dead replica had them all redial
 * it in the background, which stalled it as much; both delayed the reconnects
 * it measures.
 */
import { pino } from "pino";
import { AddressRotation } from "../../src/client/address-rotation.js";
import type { BackoffOptions } from "../../src/client/types.js";
import type { OrchestratorServiceClient } from "../../src/gen/orchestrator/v1/orchestrator.js";
import type { Channels, LoadInstance } from "./load-instance.js";
import { sleep } from "../../test/helpers/wait.js";

/** The rotation logs each hint it follows: thousands of lines per takeover that say nothing here. */
const silent = pino({ level: "silent" });

export interface FollowerOptions {
  /** The client's reconnect backoff (its defaults when absent: 100 ms growing to 1 s). */
  backoff?: BackoffOptions;
  /** Heartbeat period restarted after every welcome. */
  heartbeatMs: number;
  /** Whole connect attempt (hello to welcome) limit; the leader may be busy with a thousand hellos. */
  welcomeTimeoutMs?: number;
}

interface Route {
  rotation: AddressRotation;
  /** The replica the instance's current channel goes to. */
  address: string;
  /** Its channel to each replica tried so far. */
  channels: Map<string, OrchestratorServiceClient>;
}

export class LeaderFollower {
  /** Connect attempts that did not end in a welcome (refused, standby, timeout). */
  failedAttempts = 0;
  private readonly routes = new Map<LoadInstance, Route>();
  private stopped = false;

  constructor(
    private readonly channels: Channels,
    private readonly addresses: readonly string[],
    private readonly options: FollowerOptions,
  ) {
    if (addresses.length === 0) throw new Error("a follower needs at least one address");
  }

  /** The replica `instance` is connected (or connecting) to. */
  addressOf(instance: LoadInstance): string | undefined {
    return this.routes.get(instance)?.address;
  }

  /** Connects until some replica welcomes the instance, then starts its heartbeats; rejects only once stopped. */
  async connect(instance: LoadInstance): Promise<void> {
    const route = this.routeOf(instance);
    for (;;) {
      if (this.stopped) throw new Error(`${instance.id}: follower stopped before a welcome`);
      const endpoint = await route.rotation.take();
      if (endpoint.address !== route.address) {
        let channel = route.channels.get(endpoint.address);
        if (!channel) route.channels.set(endpoint.address, (channel = this.channels.dedicated(endpoint.address)));
        instance.useChannel(channel);
        route.address = endpoint.address;
      }
      try {
        await instance.connect(this.options.welcomeTimeoutMs);
      } catch {
        this.failedAttempts++;
        // No answer at all (no go_away): nothing listens there now; a channel kept would keep redialling it.
        if (!instance.goAway) {
          const dead = route.channels.get(endpoint.address);
          if (dead) this.channels.release(dead);
          route.channels.delete(endpoint.address);
          route.address = "";
        }
        const wait = route.rotation.after({ welcomed: false, goAway: instance.goAway });
        if (wait > 0) await sleep(wait);
        continue;
      }
      route.rotation.welcomed();
      instance.heartbeatEvery(this.options.heartbeatMs);
      return;
    }
  }

  /** A welcomed session ended: back to a leader after the client's wait (LoadFleet calls this). */
  lost(instance: LoadInstance): void {
    if (this.stopped) return;
    const wait = this.routeOf(instance).rotation.after({ welcomed: true, goAway: instance.goAway });
    void sleep(wait)
      .then(() => this.connect(instance))
      .catch(() => undefined); // stopped: the run is over
  }

  /** No more reconnects (the end of the run: replicas are being stopped). */
  stop(): void {
    this.stopped = true;
  }

  private routeOf(instance: LoadInstance): Route {
    let route = this.routes.get(instance);
    if (!route) {
      const endpoints = this.addresses.map((address) => ({ address }));
      const address = this.channels.address;
      route = { rotation: new AddressRotation(async () => endpoints, this.options.backoff, silent), address, channels: new Map([[address, instance.client]]) };
      this.routes.set(instance, route);
    }
    return route;
  }
}
