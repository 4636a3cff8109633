import http from "node:http";
import https from "node:https";
import type { Logger } from "../log/logger.js";
import type { TlsFiles } from "../auth/tls-files.js";

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

/** Decides a request to a protected route from its Authorization header: undefined lets it through. */
export type HttpGuard = (path: string, authorization: string | undefined, peer: string) => HttpReply | undefined;

export interface HttpShimOptions {
  /** Serve HTTPS with these files (reloaded when they change). */
  tls?: TlsFiles;
  guard?: HttpGuard;
}

/** Longer URLs get 414: no route takes parameters worth more. */
export const MAX_URL_LENGTH = 2_048;
// Node's defaults (16 KiB of headers, five minutes for a request) suit a web server, not three GET routes.
const LIMITS = { maxHeaderSize: 8_192, requestTimeout: 10_000, headersTimeout: 5_000 };

/**
 * The small HTTP server for container probes, curl and Prometheus. Only GET
 * (and HEAD) of known paths; everything else gets a JSON error.
 */
export class HttpShim {
  private readonly server: http.Server;

  constructor(
    private readonly routes: Record<string, HttpRoute>,
    private readonly logger: Logger,
    private readonly options: HttpShimOptions = {},
  ) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    const tls = options.tls;
    if (tls) {
      const server = https.createServer({ ...LIMITS, ...tls.secureContext((context) => server.setSecureContext(context)) }, handler);
      this.server = server;
    } else {
      this.server = http.createServer(LIMITS, handler);
    }
    // Probes must not keep the process alive during shutdown.
    this.server.keepAliveTimeout = 5_000;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if ((req.url ?? "").length > MAX_URL_LENGTH) {
      send(res, { status: 414, body: { error: `the URL is longer than ${MAX_URL_LENGTH} characters` } });
      return;
    }
    let path: string;
    try {
      path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
    } catch {
      send(res, { status: 400, body: { error: "the request target is not a valid URL path" } });
      return;
    }
    const route = Object.hasOwn(this.routes, path) ? this.routes[path] : undefined;
    if (!route) {
      send(res, { status: 404, body: { error: "not found", path, paths: Object.keys(this.routes) } });
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      send(res, { status: 405, body: { error: `method ${req.method} not allowed`, path } });
      return;
    }
    const refused = this.options.guard?.(path, req.headers.authorization, `${req.socket.remoteAddress ?? "unknown"}:${req.socket.remotePort ?? 0}`);
    if (refused) {
      if (refused.status === 401) res.setHeader("www-authenticate", 'Bearer realm="finger-orchestrator"');
      send(res, refused);
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

  /**
   * Stops listening and closes idle keep-alive connections; after `graceMs`, every
   * connection. A prober that keeps asking (a load balancer, a sampler every
   * 100 ms) keeps its connection busy, so it is never idle when looked at, and
   * without the bound the close would wait for it forever.
   */
  close(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }
}
