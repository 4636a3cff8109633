/**
 * One instance's network path to the control plane: a fault proxy in front of
 * each orchestrator address (one, or one per replica), faulted together, as
 * the instance's own network would be. The instance is given every proxy's
 * address and picks among them as it would among replicas.
 */
import { FaultProxy } from "../helpers/fault-proxy.js";

export class ProxyGroup {
  private constructor(private readonly proxies: FaultProxy[]) {}

  static async start(targets: readonly string[]): Promise<ProxyGroup> {
    return new ProxyGroup(await Promise.all(targets.map((t) => FaultProxy.start(t))));
  }

  /** The proxies' addresses, in the order of the targets. */
  get addresses(): string[] {
    return this.proxies.map((p) => p.address);
  }

  /** The client's form: one address, or a comma-separated list. */
  get address(): string {
    return this.addresses.join(",");
  }

  set delayMs(ms: number) {
    for (const p of this.proxies) p.delayMs = ms;
  }

  blackhole(): void {
    for (const p of this.proxies) p.blackhole();
  }

  stall(): void {
    for (const p of this.proxies) p.stall();
  }

  resume(): void {
    for (const p of this.proxies) p.resume();
  }

  reset(): void {
    for (const p of this.proxies) p.reset();
  }

  halfReset(): void {
    for (const p of this.proxies) p.halfReset();
  }

  cut(): void {
    for (const p of this.proxies) p.cut();
  }

  heal(): void {
    for (const p of this.proxies) p.heal();
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.close()));
  }
}
