import { status } from "@grpc/grpc-js";
import type { ConnectionSecurity, ConnectTransport } from "../client/index.js";
import type { OwnershipLedger } from "./ledger.js";
import type { SeededRandom } from "./random.js";
import { VirtualInstance } from "./virtual-instance.js";

/** What the fleet needs to create instances. */
export interface VirtualFleetOptions {
  address: string;
  ledger: OwnershipLedger;
  /** The instances' token and TLS settings. */
  security?: ConnectionSecurity;
  /** Capacities handed out in turn: `[50]` gives every instance 50, `[20, 50]` alternates. */
  capacities: readonly number[];
  /** Digits of the instance number in ids like `sim-i-007`. */
  idWidth?: number;
  idPrefix?: string;
  /** Replaces each instance's gRPC connection (tests). */
  transport?: (instanceId: string) => ConnectTransport;
  onNote?: (text: string) => void;
}

/** The orchestrator refused a virtual instance's session for its token or certificate. */
export class SessionRefusedError extends Error {
  override name = "SessionRefusedError";

  constructor(
    message: string,
    readonly code: status,
  ) {
    super(message);
  }
}

/** Every virtual instance of a simulation, the initial ones and those that joined later. */
export class VirtualFleet {
  readonly instances: VirtualInstance[] = [];
  /** Called whenever an instance becomes `up`; set by whoever measures joins. */
  onUp: ((instance: VirtualInstance) => void) | undefined;
  /** The first session refused (UNAUTHENTICATED, PERMISSION_DENIED), told once as a note; the clients keep retrying. */
  refusal: SessionRefusedError | undefined;
  readonly #options: VirtualFleetOptions;

  constructor(options: VirtualFleetOptions) {
    if (options.capacities.length === 0) throw new RangeError("at least one capacity is needed");
    this.#options = options;
  }

  /** Creates and starts `count` new instances; returns them. */
  add(count: number): VirtualInstance[] {
    const o = this.#options;
    const added: VirtualInstance[] = [];
    for (let i = 0; i < count; i++) {
      const index = this.instances.length;
      const instanceId = `${o.idPrefix ?? "sim-i"}-${String(index + 1).padStart(o.idWidth ?? 3, "0")}`;
      const instance = new VirtualInstance({
        address: o.address,
        instanceId,
        capacity: o.capacities[index % o.capacities.length] as number,
        ledger: o.ledger,
        security: o.security,
        transport: o.transport?.(instanceId),
        onUp: (vi) => this.onUp?.(vi),
        onNote: o.onNote,
        onRefused: (id, code, details) => {
          if (this.refusal) return;
          this.refusal = new SessionRefusedError(`the orchestrator refused ${id}'s session: ${status[code]}: ${details}`, code);
          o.onNote?.(this.refusal.message);
        },
      });
      this.instances.push(instance);
      added.push(instance);
      instance.start();
    }
    return added;
  }

  /** Up to `count` random instances that are `up` now. */
  pickUp(count: number, random: SeededRandom): VirtualInstance[] {
    return random.pick(
      this.instances.filter((i) => i.state === "up"),
      count,
    );
  }

  /** Sum of the capacities of the `up` instances. */
  upCapacity(): number {
    return this.instances.filter((i) => i.state === "up").reduce((sum, i) => sum + i.capacity, 0);
  }

  /** Closes every instance (healing and reviving first), so each sends leave. */
  async shutdown(): Promise<void> {
    await Promise.allSettled(this.instances.map((i) => i.shutdown()));
  }
}
