import { randomUUID } from "node:crypto";
import { status, type ServerDuplexStream } from "@grpc/grpc-js";
import type { Coordinator } from "../coordinator/coordinator.js";
import type { EndReason, GrantedStream, SessionHandle, WelcomeTerms } from "../coordinator/types.js";
import type { ConnectRequest, ConnectResponse } from "../gen/orchestrator/v1/orchestrator.js";
import { metricsFromMessage } from "./metrics-mapping.js";
import type { Logger } from "../log/logger.js";
import { decodeHello } from "./hello-decoder.js";
import { FieldError } from "../domain/field-error.js";
import { MAX_REASON_LENGTH } from "../domain/limits.js";
import { encodeResponse, GRPC_FRAME_HEADER_BYTES } from "./connect-service.js";
import { resetCall } from "./reset-call.js";
import { authorizationOf } from "./auth-interceptor.js";
import { Undecodable } from "./undecodable.js";
import { identityRefusal, type Security } from "../auth/security.js";
import type { Principal } from "../auth/access-policy.js";
import { TokenBucket } from "../domain/token-bucket.js";
import type { SessionAdmission } from "./session-admission.js";

function endStatus(reason: EndReason): { code: status; details: string } | undefined {
  switch (reason.kind) {
    case "superseded":
      return { code: status.ABORTED, details: `superseded: a newer session of this instance connected from ${reason.by}` };
    case "lease-expired":
      return { code: status.UNAVAILABLE, details: `lease expired: no message for ${reason.leaseTtlMs} ms` };
    case "shutdown":
      return { code: status.UNAVAILABLE, details: "orchestrator shutting down; reconnect" };
    case "not-leader":
      return { code: status.UNAVAILABLE, details: `this orchestrator replica is not the leader; ${reason.leader ? `the leader is at ${reason.leader}` : "try another replica"}` };
    case "left":
      return undefined;
  }
}

/** What every session of a server shares. */
export interface SessionOptions {
  helloTimeoutMs: number;
  /** Bytes that may wait for an instance that does not read before its session is ended (SESSION_QUEUE_LIMIT_BYTES). */
  queueLimitBytes: number;
  logger: Logger;
  /** Called once for each session ended for passing queueLimitBytes (counted in the metrics). */
  queueOverflowed?: () => void;
  /** Whose token or certificate the session came with, checked against its hello's id; none: anyone may be anyone. */
  security?: Security;
  /** MAX_SESSIONS and MAX_SESSIONS_PER_CONNECTION; none: no limit. */
  admission?: SessionAdmission;
  /** What an instance may send (SESSION_MESSAGES_PER_SECOND, SESSION_MESSAGE_BURST); none: no limit. */
  messageRate?: { perSecond: number; burst: number };
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
  private readonly logger: Logger;
  /** Bytes of messages written to the call that HTTP/2 has not taken yet (see write()). */
  private queuedBytes = 0;
  /** Who the call's credentials say it is (the interceptor has let it in). */
  private readonly principal: Principal;
  private readonly certificateNames: string[] | undefined;
  private readonly bucket: TokenBucket | undefined;
  private release: () => void = () => undefined;

  constructor(
    private readonly call: ServerDuplexStream<ConnectRequest, Buffer>,
    private readonly coordinator: Coordinator,
    private readonly options: SessionOptions,
  ) {
    const { helloTimeoutMs } = options;
    this.logger = options.logger;
    this.peer = call.getPeer();
    const verdict = options.security?.policy.check("instance", authorizationOf(call.metadata));
    this.principal = verdict?.ok ? verdict.principal : { role: "anonymous" };
    this.certificateNames = options.security?.certificateBinding(call.getAuthContext()?.sslPeerCertificate);
    this.helloTimer = setTimeout(
      () => this.fail(status.DEADLINE_EXCEEDED, `expected hello as the first message within ${helloTimeoutMs} ms`),
      helloTimeoutMs,
    );
    const rate = options.messageRate;
    this.bucket = rate ? new TokenBucket(rate.perSecond, rate.burst, performance.now()) : undefined;
    if (verdict && !verdict.ok) {
      // The interceptor let the call in, but the token list changed in between: refused, never
      // let through as anonymous (that would skip the token's binding to an instance id).
      this.fail(verdict.code, verdict.message);
      return;
    }
    const admitted = options.admission?.admit(this.peer);
    if (admitted && "refusal" in admitted) {
      this.fail(status.RESOURCE_EXHAUSTED, admitted.refusal);
      return;
    }
    if (admitted) this.release = admitted.release;
    call.on("data", (message: ConnectRequest | Undecodable) => this.receive(message));
    call.on("end", () => {
      this.lost("instance closed the stream without leave");
      this.finish();
    });
    call.on("cancelled", () => this.lost("cancelled"));
    call.on("error", (error: Error) => this.lost(error.message));
    call.on("close", () => this.lost("connection closed"));
  }

  private receive(message: ConnectRequest | Undecodable): void {
    if (this.ended) return;
    if (message instanceof Undecodable) {
      this.fail(message.code, message.details);
      return;
    }
    if (this.bucket && !this.bucket.tryTake(performance.now())) {
      this.flooded();
      return;
    }
    const msg = message.msg;
    if (!this.instanceId) {
      if (msg?.$case !== "hello") {
        this.fail(status.INVALID_ARGUMENT, `expected hello as the first message, got ${msg?.$case ?? "an empty message"}`);
        return;
      }
      clearTimeout(this.helloTimer);
      try {
        const hello = decodeHello(msg.value);
        const refusal = identityRefusal(hello.instanceId, this.principal, this.certificateNames);
        if (refusal) {
          this.options.security?.refusals.report(this.peer, "orchestrator.v1.OrchestratorService", "identity", refusal, { instance: hello.instanceId });
          this.fail(status.PERMISSION_DENIED, refusal);
          return;
        }
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
        if (msg.value.reason.length > MAX_REASON_LENGTH) {
          this.fail(status.INVALID_ARGUMENT, `leave.reason: must be at most ${MAX_REASON_LENGTH} characters`);
          break;
        }
        this.coordinator.leave(this, id, msg.value.reason, msg.value.returnWithinMs);
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
    this.release();
    if (this.gone) return;
    this.gone = true;
    this.ended = true;
    if (this.instanceId) this.coordinator.disconnected(this, this.instanceId, cause);
  }

  /**
   * Sends one message, unless the instance stopped reading. grpc-js tells little
   * about that: write() turns false once 16 messages wait, whatever their size,
   * 'drain' fires when none do, and writableLength counts messages too. What it
   * does give is each write's callback, run when HTTP/2 has taken the message
   * (into DATA frames within the peer's flow-control window). So the session
   * counts the bytes written and not yet taken: all that waits in grpc-js and
   * the HTTP/2 stream's queue, and all that grows while the peer reads nothing.
   * Beyond it lie only the peer's flow-control window (64 KiB by default) and
   * the sockets' buffers, which the transport bounds (a grpc-js client that
   * pauses its stream also reads up to 16 messages ahead into its own buffer).
   */
  private write(message: ConnectResponse): void {
    if (this.ended) return;
    const encoded = encodeResponse(message);
    const size = encoded.byteLength + GRPC_FRAME_HEADER_BYTES;
    if (this.queuedBytes + size > this.options.queueLimitBytes) {
      this.overflow(size);
      return;
    }
    this.queuedBytes += size;
    this.call.write(encoded, () => {
      this.queuedBytes -= size;
    });
  }

  /**
   * More than the limit would wait for the instance: it stopped reading (hung,
   * or its receive window stays full). Ends the session as a broken connection,
   * not a leave: the instance may still be running its streams, so they stay
   * for the reconnect grace and until its lease is over.
   */
  private overflow(messageBytes: number): void {
    this.ended = true;
    const { queueLimitBytes } = this.options;
    const cause = `more than SESSION_QUEUE_LIMIT_BYTES=${queueLimitBytes} bytes would wait unread (${this.queuedBytes} queued, ${messageBytes} more): the instance stopped reading`;
    this.logger.warn({ peer: this.peer, instanceId: this.instanceId, queuedBytes: this.queuedBytes, messageBytes, queueLimitBytes }, "instance stopped reading; ending its session");
    this.options.queueOverflowed?.();
    // Later, not now: this runs inside the coordinator's own calls (a round sending
    // its messages, a hello), which must not see the instance disconnect halfway.
    process.nextTick(() => {
      this.lost(cause);
      // A status would wait behind the unread messages (see resetCall), so the call is reset.
      if (!resetCall(this.call)) this.call.emit("error", { code: status.RESOURCE_EXHAUSTED, details: cause });
    });
  }

  /**
   * The instance sends faster than any client needs: ended as a broken
   * connection (its streams stay for the grace and its lease), with
   * RESOURCE_EXHAUSTED; other sessions see nothing of it.
   */
  private flooded(): void {
    const rate = this.options.messageRate!;
    const cause = `more than SESSION_MESSAGES_PER_SECOND=${rate.perSecond} messages a second (burst SESSION_MESSAGE_BURST=${rate.burst})`;
    this.logger.warn({ peer: this.peer, instanceId: this.instanceId }, "session flooded: %s", cause);
    this.lost(cause);
    this.call.emit("error", { code: status.RESOURCE_EXHAUSTED, details: cause });
  }

  private fail(code: status, details: string): void {
    if (this.ended) return;
    this.release();
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

  sendGoAway(reason: string, reconnectAfterMs: number, leaseExtensionMs: number, leaderAddress = ""): void {
    this.write({ msg: { $case: "goAway", value: { reason, reconnectAfterMs, leaseExtensionMs, leaderAddress } } });
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
