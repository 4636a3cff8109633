import type { AssignmentChange } from "./assignment-changes.js";
import type { EndReason, GrantedStream, SessionHandle, WelcomeTerms } from "./types.js";

const NOTHING: readonly string[] = [];

/**
 * Everything the coordinator sends one session goes out here: the outbox
 * numbers assignments (`seq`) and remembers, under each number, the streams
 * that message told the instance to stop. An ack of `seq` resolves every
 * message up to it and hands back those streams, which only then may go to
 * someone else. The gRPC session under it is a plain pipe.
 */
export class SessionOutbox {
  private seq = 0;
  private readonly revoked = new Map<number, readonly string[]>();

  constructor(private readonly session: SessionHandle) {}

  /** True when this outbox sends to `session`. */
  wraps(session: SessionHandle): boolean {
    return this.session === session;
  }

  get sessionId(): string {
    return this.session.sessionId;
  }

  welcome(welcome: WelcomeTerms): void {
    this.session.sendWelcome(welcome);
  }

  /**
   * Sends an assignment (a full set, or streams to start and stop).
   * @param revoking the streams whose stop must be acknowledged before they may
   *   move: revocations in `remove`, the owned streams a full set leaves out.
   *   Not every removal is one: a stream removed because it was disabled, or
   *   restarted with a new URL, goes to nobody else, and must not be freed by
   *   this message's ack (a later revocation of it would be freed too early).
   * @returns the message's seq.
   */
  assign(change: { full: boolean; add: GrantedStream[]; remove: string[] }, revoking: readonly string[]): number {
    this.seq += 1;
    this.session.sendAssignment({ seq: this.seq, ...change });
    if (revoking.length) this.revoked.set(this.seq, revoking);
    return this.seq;
  }

  /** An incremental change whose removals are all revocations. */
  revoke(change: AssignmentChange): number {
    return this.assign({ full: false, add: change.add, remove: change.remove }, change.remove);
  }

  /** The instance applied everything up to `seq`: the streams those messages revoked. */
  acknowledge(seq: number): readonly string[] {
    if (this.revoked.size === 0) return NOTHING;
    const out: string[] = [];
    // Insertion order is seq order: stop at the first message not yet applied.
    for (const [s, streamIds] of this.revoked) {
      if (s > seq) break;
      this.revoked.delete(s);
      out.push(...streamIds);
    }
    return out;
  }

  goAway(reason: string, reconnectAfterMs: number, leaseExtensionMs = 0, leaderAddress = ""): void {
    this.session.sendGoAway(reason, reconnectAfterMs, leaseExtensionMs, leaderAddress);
  }

  end(reason: EndReason): void {
    this.session.end(reason);
  }
}
