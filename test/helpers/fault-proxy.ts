/**
 * A TCP proxy on loopback that breaks one instance's connection the ways a
 * network does: black-hole (nothing passes, nothing closes), delay, reset,
 * refuse new connections, stall and resume. One per instance, so each fault
 * hits exactly one instance. Used by the end-to-end fault tests and the chaos suite.
 */
import net from "node:net";

/** One direction of one connection: chunks wait here while delayed or stalled, in order. */
class Direction {
  private readonly queue: Array<{ due: number; chunk: Buffer }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly to: net.Socket,
    private readonly proxy: FaultProxy,
  ) {}

  push(chunk: Buffer): void {
    if (this.proxy.mode === "blackhole") return; // dropped, as a dead path drops packets
    this.queue.push({ due: performance.now() + this.proxy.delayMs, chunk });
    this.flush();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length && this.proxy.mode === "pass") {
      const wait = this.queue[0]!.due - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.flush(), wait);
        return;
      }
      if (!this.to.destroyed) this.to.write(this.queue.shift()!.chunk);
      else this.queue.shift();
    }
  }

  drop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

export type ProxyMode = "pass" | "blackhole" | "stalled";

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  directions: Direction[];
  /** The server's side was reset, the instance's side is kept open and silent (halfReset). */
  halfOpen?: boolean;
}

export class FaultProxy {
  mode: ProxyMode = "pass";
  /** Added to every chunk, each way. */
  delayMs = 0;
  /** New connections are reset at once (the instance's address is unreachable). */
  refusing = false;
  /** Connections accepted so far (a reconnect shows up here). */
  accepted = 0;
  private readonly pairs = new Set<Pair>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and forwards to `target` (`host:port`). */
  static async start(target: string): Promise<FaultProxy> {
    const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
    let proxy: FaultProxy | undefined;
    const server = net.createServer((client) => proxy!.accept(client, host, port));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new FaultProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Open connections. */
  get connections(): number {
    return this.pairs.size;
  }

  private accept(client: net.Socket, host: string, port: number): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    this.accepted++;
    const upstream = net.connect(port, host);
    const pair: Pair = { client, upstream, directions: [new Direction(upstream, this), new Direction(client, this)] };
    this.pairs.add(pair);
    client.on("data", (chunk: Buffer) => pair.directions[0]!.push(chunk));
    upstream.on("data", (chunk: Buffer) => pair.directions[1]!.push(chunk));
    const end = () => {
      if (pair.halfOpen && !client.destroyed) return; // the instance's side stays open until reset() or close()
      if (!this.pairs.delete(pair)) return;
      for (const d of pair.directions) d.drop();
      // A close on one side closes the other, as a reset; a black hole keeps both open (see blackhole()).
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.resetAndDestroy();
    };
    for (const socket of [client, upstream]) {
      socket.on("error", end);
      socket.on("close", end);
    }
  }

  /** Nothing passes either way and nothing is closed: a dead path, a frozen NAT entry. */
  blackhole(): void {
    this.mode = "blackhole";
    for (const pair of this.pairs) for (const d of pair.directions) d.drop();
  }

  /** Nothing passes for now; it is kept and delivered, in order, on resume(). */
  stall(): void {
    this.mode = "stalled";
  }

  /** Back to forwarding; a stall's backlog goes out first. */
  resume(): void {
    this.mode = "pass";
    for (const pair of this.pairs) for (const d of pair.directions) d.flush();
  }

  /** Resets every open connection, both sides (RST, not FIN). */
  reset(): void {
    for (const pair of [...this.pairs]) {
      this.pairs.delete(pair);
      for (const d of pair.directions) d.drop();
      for (const socket of [pair.client, pair.upstream]) if (!socket.destroyed) socket.resetAndDestroy();
    }
  }

  /**
   * Resets the server's side of every connection and leaves the instance's side
   * open and silent, as a middlebox that gives up on a connection may: the
   * orchestrator sees a break at once, the instance sees nothing.
   */
  halfReset(): void {
    for (const pair of this.pairs) {
      pair.halfOpen = true;
      for (const d of pair.directions) d.drop();
      pair.upstream.resetAndDestroy();
    }
  }

  /** Resets what is open and refuses what comes: the instance's network is gone. */
  cut(): void {
    this.refusing = true;
    this.reset();
  }

  /** Everything back to normal. */
  heal(): void {
    this.refusing = false;
    this.delayMs = 0;
    this.resume();
  }

  async close(): Promise<void> {
    this.refusing = true;
    this.reset();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
