import http from "node:http";
import type { Logger } from "../log/logger.js";

/** What a route answers: an HTTP status and a JSON body (or raw text for metrics). */
export interface HttpReply {
  status: number;
  body: unknown;
  contentType?: string;
}

/** A GET route of the HTTP shim. */
export type HttpRoute = () => Promise<HttpReply> | HttpReply;

function send(res: http.ServerResponse, reply: HttpReply): void {
  const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": reply.contentType ?? "application/json; charset=utf-8",
    "cache-control": "no-store",
  });
  res.end(text);
}

/**
 * The small HTTP server for container probes, curl and Prometheus. Only GET
 * (and HEAD) of known paths; everything else gets a JSON error.
 */
export class HttpShim {
  private readonly server: http.Server;

  constructor(
    private readonly routes: Record<string, HttpRoute>,
    private readonly logger: Logger,
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Probes must not keep the process alive during shutdown.
    this.server.keepAliveTimeout = 5_000;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
    const route = this.routes[path];
    if (!route) {
      send(res, { status: 404, body: { error: "not found", path, paths: Object.keys(this.routes) } });
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      send(res, { status: 405, body: { error: `method ${req.method} not allowed`, path } });
      return;
    }
    try {
      send(res, await route());
    } catch (error) {
      this.logger.error({ err: error, path }, "http route failed");
      send(res, { status: 500, body: { error: "internal error", path } });
    }
  }

  /** Listens and resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(new Error(`cannot listen for HTTP on ${host}:${port}: ${error.message}`));
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        const address = this.server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  }

  /** Stops listening and closes idle keep-alive connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }
}
