import { Server, type ServerCredentials, type ServerInterceptor } from "@grpc/grpc-js";

/** Channel options tuned for thousands of long-lived instance sessions. */
const SERVER_OPTIONS = {
  // Detect dead TCP connections even when an instance is quiet.
  "grpc.keepalive_time_ms": 20_000,
  "grpc.keepalive_timeout_ms": 10_000,
  // Instances may ping as often as every 10 s without being told to calm down.
  "grpc.http2.min_ping_interval_without_data_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.max_receive_message_length": 4 * 1024 * 1024,
} as const;

/** Creates the gRPC server with the orchestrator's channel options; `interceptors` see every call first (authorization). */
export function createGrpcServer(interceptors: ServerInterceptor[] = []): Server {
  return new Server({ ...SERVER_OPTIONS, interceptors });
}

/** Binds the server with `credentials` (plaintext or TLS) and resolves with the port actually bound (useful with port 0). */
export function bindGrpcServer(server: Server, host: string, port: number, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (error, boundPort) => {
      if (error) reject(new Error(`cannot listen for gRPC on ${host}:${port}: ${error.message}`));
      else resolve(boundPort);
    });
  });
}

/** Stops accepting calls, waits for running ones up to `timeoutMs`, then cancels the rest. */
export function shutdownGrpcServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
