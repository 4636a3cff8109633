import { randomUUID } from "node:crypto";
import { status, type ServerDuplexStream } from "@grpc/grpc-js";
import type { Coordinator } from "../coordinator/coordinator.js";
import type { EndReason, GrantedStream, SessionHandle, WelcomeTerms } from "../coordinator/types.js";
import type { ConnectRequest, ConnectResponse } from "../gen/orchestrator/v1/orchestrator.js";
import { metricsFromMessage } from "./metrics-mapping.js";
import type { Logger } from "../log/logger.js";
import { decodeHello } from "./hello-decoder.js";
import { FieldError } from "../domain/field-error.js";

function endStatus(reason: EndReason): { code: status; details: string } | undefined {
  switch (reason.kind) {
    case "superseded":
      return { code: status.ABORTED, details: `superseded: a newer session of this instance connected from ${reason.by}` };
    case "lease-expired":
      return { code: status.UNAVAILABLE, details: `lease expired: no message for ${reason.leaseTtlMs} ms` };
    case "shutdown":
      return { code: status.UNAVAILABLE, details: "orchestrator shutting down; reconnect" };
    case "left":
      return undefined;
  }
}

/**
 * One Connect stream: decodes and checks what the instance sends, hands it to
 * the coordinator, and implements the coordinator's SessionHandle on top of
 * the gRPC call.
 */
export class InstanceSession implements SessionHandle {
  readonly sessionId = randomUUID();
  readonly peer: string;
  private instanceId?: string;
  private ended = false;
  private gone = false;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(
    private readonly call: ServerDuplexStream<ConnectRequest, ConnectResponse>,
    private readonly coordinator: Coordinator,
    helloTimeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.peer = call.getPeer();
    this.helloTimer = setTimeout(
      () => this.fail(status.DEADLINE_EXCEEDED, `expected hello as the first message within ${helloTimeoutMs} ms`),
      helloTimeoutMs,
    );
    call.on("data", (message: ConnectRequest) => this.receive(message));
    call.on("end", () => {
      this.lost("instance closed the stream without leave");
      this.finish();
    });
    call.on("cancelled", () => this.lost("cancelled"));
    call.on("error", (error: Error) => this.lost(error.message));
    call.on("close", () => this.lost("connection closed"));
  }

  private receive(message: ConnectRequest): void {
    if (this.ended) return;
    const msg = message.msg;
    if (!this.instanceId) {
      if (msg?.$case !== "hello") {
        this.fail(status.INVALID_ARGUMENT, `expected hello as the first message, got ${msg?.$case ?? "an empty message"}`);
        return;
      }
      clearTimeout(this.helloTimer);
      try {
        const hello = decodeHello(msg.value);
        this.instanceId = hello.instanceId;
        this.coordinator.hello(this, hello);
      } catch (error) {
        if (!(error instanceof FieldError)) throw error;
        this.fail(status.INVALID_ARGUMENT, error.message);
      }
      return;
    }
    const id = this.instanceId;
    // Every message renews the lease: heartbeat and ack do it themselves, with their one lookup.
    switch (msg?.$case) {
      case "heartbeat":
        // Acknowledged only when it really renewed the lease: a strict client counts its lease from this.
        if (this.coordinator.heartbeat(this, id, msg.value.runningStreams, metricsFromMessage(msg.value.metrics)) && msg.value.seq > 0) {
          this.write({ msg: { $case: "heartbeatAck", value: { seq: msg.value.seq } } });
        }
        break;
      case "ack":
        this.coordinator.ack(this, id, msg.value.seq);
        break;
      case "leave":
        this.coordinator.leave(this, id, msg.value.reason);
        break;
      case "hello":
        this.fail(status.INVALID_ARGUMENT, "hello may be sent only once per session; open a new stream to re-register");
        break;
      default:
        // Unknown or empty messages from newer clients only renew the lease.
        this.coordinator.touch(this, id);
        break;
    }
  }

  private lost(cause: string): void {
    clearTimeout(this.helloTimer);
    if (this.gone) return;
    this.gone = true;
    this.ended = true;
    if (this.instanceId) this.coordinator.disconnected(this, this.instanceId, cause);
  }

  private write(message: ConnectResponse): void {
    if (this.ended) return;
    this.call.write(message);
  }

  private fail(code: status, details: string): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.helloTimer);
    this.logger.debug({ peer: this.peer, instanceId: this.instanceId, code, details }, "ending session");
    this.call.emit("error", { code, details });
  }

  private finish(): void {
    if (!this.call.writableEnded) this.call.end();
  }

  sendWelcome(welcome: WelcomeTerms): void {
    this.write({ msg: { $case: "welcome", value: { sessionId: this.sessionId, ...welcome } } });
  }

  sendAssignment(assignment: { seq: number; full: boolean; add: GrantedStream[]; remove: string[] }): void {
    this.write({ msg: { $case: "assignment", value: assignment } });
  }

  sendGoAway(reason: string, reconnectAfterMs: number): void {
    this.write({ msg: { $case: "goAway", value: { reason, reconnectAfterMs } } });
  }

  end(reason: EndReason): void {
    // The coordinator ended it and already knows why; the call's own close must not
    // come back as a disconnect (that would start a reconnect grace).
    this.gone = true;
    const s = endStatus(reason);
    if (s) this.fail(s.code, s.details);
    else {
      this.ended = true;
      this.finish();
    }
  }
}
