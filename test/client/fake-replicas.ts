/**
 * Orchestrator replicas as far as an instance sees them, on real grpc-js servers (no database,
 * no scheduler): a leader that welcomes every hello and grants one stream, and a standby that
 * answers as the orchestrator's standby does, with one go_away naming the leader (or no one)
 * and then UNAVAILABLE. For the clients' tests of several addresses, TypeScript and Python alike.
 */
import { Server, ServerCredentials, status, type ServerDuplexStream } from "@grpc/grpc-js";
import { OrchestratorServiceService, type ConnectRequest, type ConnectResponse, type Hello } from "../../src/gen/orchestrator/v1/orchestrator.js";

type Call = ServerDuplexStream<ConnectRequest, ConnectResponse>;

export interface ReplicaOptions {
  /** Loopback address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Default: plaintext. */
  credentials?: ServerCredentials;
}

export class FakeReplica {
  readonly server = new Server();
  /** The hellos this replica received, in order. */
  readonly hellos: Hello[] = [];
  /** Connect calls this replica answered. */
  calls = 0;
  address = "";

  private constructor(readonly name: string, private readonly answer: (call: Call, replica: FakeReplica) => void) {}

  /** A leader: welcomes each hello (session `<name>-<n>`), grants stream "a", acks heartbeats. */
  static leader(name: string, options: ReplicaOptions = {}): Promise<FakeReplica> {
    return new FakeReplica(name, (call, replica) => {
      call.on("data", (request: ConnectRequest) => {
        const msg = request.msg;
        if (msg?.$case === "hello") {
          replica.hellos.push(msg.value);
          call.write({ msg: { $case: "welcome", value: { sessionId: `${name}-${replica.hellos.length}`, heartbeatIntervalMs: 1_000, leaseTtlMs: 5_000, reconnectGraceMs: 1_000 } } });
          const stream = { id: "a", url: "http://radio.test/a", name: "Radio a", metadata: {}, epoch: 1 };
          call.write({ msg: { $case: "assignment", value: { seq: 1, full: true, add: [stream], remove: [] } } });
        }
        if (msg?.$case === "heartbeat" && msg.value.seq > 0) call.write({ msg: { $case: "heartbeatAck", value: { seq: msg.value.seq } } });
      });
      call.on("end", () => call.end());
    }).listen(options);
  }

  /** A standby: one go_away {reason: "standby", leader_address: leaderAddress()}, then UNAVAILABLE naming the leader. */
  static standby(name: string, leaderAddress: () => string, options: ReplicaOptions = {}): Promise<FakeReplica> {
    return new FakeReplica(name, (call) => {
      const leader = leaderAddress();
      call.write({ msg: { $case: "goAway", value: { reason: "standby", reconnectAfterMs: 0, leaseExtensionMs: 0, leaderAddress: leader } } });
      call.emit("error", { code: status.UNAVAILABLE, details: `${name} is a standby; the leader is ${leader || "not known"}` });
    }).listen(options);
  }

  private async listen(options: ReplicaOptions): Promise<FakeReplica> {
    this.server.addService(OrchestratorServiceService, {
      connect: (call: Call) => {
        this.calls++;
        call.on("error", () => {}); // a client that cancels is no failure of the replica
        this.answer(call, this);
      },
    });
    const host = options.host ?? "127.0.0.1";
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:0`, options.credentials ?? ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    this.address = `${host}:${port}`;
    return this;
  }

  close(): void {
    this.server.forceShutdown();
  }
}
