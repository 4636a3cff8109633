/**
 * The transport ceiling: a bare grpc-js server with the orchestrator's own
 * server options and the same Connect service, which only answers hello with a
 * welcome (plus a full assignment of STREAMS_PER_SESSION dummy streams) and
 * each heartbeat that carries a seq with heartbeat_ack (no coordinator, no database). Run as a child process:
 * `node --import tsx bench/lib/echo-server.ts`; prints "listening <port>".
 */
import { ServerCredentials, type ServerDuplexStream } from "@grpc/grpc-js";
import { bindGrpcServer, createGrpcServer } from "../../src/grpc/grpc-server.js";
import {
  OrchestratorServiceService,
  type ConnectRequest,
  type ConnectResponse,
  type OrchestratorServiceServer,
} from "../../src/gen/orchestrator/v1/orchestrator.js";

const server = createGrpcServer();
const STREAMS_PER_SESSION = Number(process.env.STREAMS_PER_SESSION ?? 0);
let sessions = 0;
const service: OrchestratorServiceServer = {
  connect(call: ServerDuplexStream<ConnectRequest, ConnectResponse>) {
    const id = String(++sessions);
    call.on("data", (m: ConnectRequest) => {
      const msg = m.msg;
      if (msg?.$case === "heartbeat") {
        if (msg.value.seq > 0) call.write({ msg: { $case: "heartbeatAck", value: { seq: msg.value.seq } } });
      } else if (msg?.$case === "hello") {
        call.write({ msg: { $case: "welcome", value: { sessionId: id, heartbeatIntervalMs: 1_000, leaseTtlMs: 3_000, reconnectGraceMs: 1_000 } } });
        // Give each session as many streams as the orchestrator run does, so the
        // clients driving both servers carry the same state.
        const add = Array.from({ length: STREAMS_PER_SESSION }, (_, i) => ({
          id: `echo-${id}-${i}`,
          url: `http://radio.example/${id}/${i}`,
          name: "",
          metadata: {},
          epoch: i + 1,
        }));
        call.write({ msg: { $case: "assignment", value: { seq: 1, full: true, add, remove: [] } } });
      } else if (msg?.$case === "leave") {
        call.end();
      }
    });
    call.on("end", () => call.end());
    call.on("error", () => undefined);
    call.on("cancelled", () => undefined);
  },
};
server.addService(OrchestratorServiceService, service);
const port = await bindGrpcServer(server, "127.0.0.1", Number(process.env.PORT ?? 0), ServerCredentials.createInsecure());
process.stdout.write(`listening ${port}\n`);
process.on("SIGTERM", () => {
  server.forceShutdown();
  process.exit(0);
});
