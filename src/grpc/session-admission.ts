/**
 * How many Connect sessions may be open: in all (MAX_SESSIONS) and on one TCP
 * connection (MAX_SESSIONS_PER_CONNECTION; a real instance needs one, a
 * client multiplexing thousands over one connection is a load test or an
 * attack). Over either, a new session is refused with RESOURCE_EXHAUSTED and
 * the open ones are not touched. A connection is told apart by its peer
 * address (host and port), which grpc-js gives per call.
 */
export interface SessionLimits {
  maxSessions: number;
  maxSessionsPerConnection: number;
}

export class SessionAdmission {
  private open = 0;
  private readonly byConnection = new Map<string, number>();

  constructor(private readonly limits: SessionLimits) {}

  /** Admits a session from `peer`: a release function (call it once, when it ends), or why not. */
  admit(peer: string): { release: () => void } | { refusal: string } {
    const onConnection = this.byConnection.get(peer) ?? 0;
    if (this.open >= this.limits.maxSessions) {
      return { refusal: `MAX_SESSIONS=${this.limits.maxSessions} sessions are open; try another orchestrator or later` };
    }
    if (onConnection >= this.limits.maxSessionsPerConnection) {
      return { refusal: `MAX_SESSIONS_PER_CONNECTION=${this.limits.maxSessionsPerConnection} sessions are open on this connection; open another connection` };
    }
    this.open++;
    this.byConnection.set(peer, onConnection + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.open--;
        const left = (this.byConnection.get(peer) ?? 1) - 1;
        if (left > 0) this.byConnection.set(peer, left);
        else this.byConnection.delete(peer);
      },
    };
  }

  /** Sessions open now (for tests and the leak checks of the fuzz tests). */
  get count(): number {
    return this.open;
  }
}
