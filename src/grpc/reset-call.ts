import { constants, type ServerHttp2Stream } from "node:http2";
import type { ServerDuplexStream } from "@grpc/grpc-js";

/**
 * Ends a call at once with RST_STREAM ENHANCE_YOUR_CALM, which gRPC clients
 * report as RESOURCE_EXHAUSTED (PROTOCOL-HTTP2.md maps the one to the other;
 * grpc-js adds "Bandwidth exhausted or memory limit exceeded").
 *
 * Needed for a peer that does not read: a status travels in trailers, and
 * HTTP/2 sends a stream's trailers only after all of its DATA, which such a
 * peer's flow-control window holds back; grpc-js even waits for every queued
 * message before it asks for the trailers. So emitting an error would keep
 * the call, and every message queued for it, until the peer read them all or
 * its connection died. grpc-js has no public way to reset a server call, so
 * this reaches the HTTP/2 stream through its internals (grpc-js 1.14: the
 * call object's `call`, through each server interceptor's `nextCall`, to the
 * base call's `stream`).
 *
 * @returns false when the HTTP/2 stream cannot be found (grpc-js changed);
 *   the caller then ends it the slow way.
 */
interface InnerCall {
  stream?: ServerHttp2Stream;
  nextCall?: InnerCall;
}

export function resetCall(call: ServerDuplexStream<unknown, unknown>): boolean {
  let inner = (call as unknown as { call?: InnerCall }).call;
  // The authorization interceptor wraps the base call once; a few more levels are tolerated.
  for (let depth = 0; inner && !inner.stream && depth < 8; depth++) inner = inner.nextCall;
  const stream = inner?.stream;
  if (!stream || typeof stream.close !== "function") return false;
  if (!stream.closed) stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
  return true;
}
