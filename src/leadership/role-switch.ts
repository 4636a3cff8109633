/** Any object of handler functions: a gRPC service implementation, a set of HTTP routes. */
type Handlers = Record<string, (...args: never[]) => unknown>;

/**
 * Handlers bound once (gRPC services and HTTP routes cannot be swapped on a
 * running server) that call whichever implementation is current: a replica
 * serves as a standby first and as the leader once elected, on the same ports.
 */
export class RoleSwitch<T extends Handlers> {
  private current: T;

  constructor(initial: T) {
    this.current = initial;
  }

  /** From now on calls go to `next`; calls under way finish where they started. */
  switchTo(next: T): void {
    this.current = next;
  }

  /** The handlers to register: one for each of `names`, each forwarding to the current implementation. */
  handlers(names: Iterable<keyof T & string>): T {
    const out: Record<string, unknown> = {};
    for (const name of names) {
      out[name] = (...args: never[]) => (this.current[name] as (...a: never[]) => unknown)(...args);
    }
    return out as T;
  }
}
