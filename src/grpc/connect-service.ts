import { ConnectRequest, ConnectResponse, OrchestratorServiceService } from "../gen/orchestrator/v1/orchestrator.js";
import { status } from "@grpc/grpc-js";
import { decodeOrUndecodable, Undecodable } from "./undecodable.js";

/**
 * Bytes gRPC adds in front of every message on the wire (a compressed flag
 * and a length); grpc-js never compresses responses, so a message of n bytes
 * is n + 5 bytes of HTTP/2 DATA.
 */
export const GRPC_FRAME_HEADER_BYTES = 5;

/**
 * The Connect service as the server registers it. Responses reach grpc-js
 * already encoded: a session encodes each message itself (encodeResponse),
 * so it knows exactly how many bytes wait for an instance that does not read
 * (see InstanceSession), and the encoding is still done only once.
 */
export const connectService = {
  connect: {
    ...OrchestratorServiceService.connect,
    responseSerialize: (encoded: Buffer): Buffer => encoded,
    // Not decoded at all when too large, and not thrown when undecodable (grpc-js would answer
    // INTERNAL): the session ends with a status that names the rule.
    requestDeserialize: (bytes: Buffer): ConnectRequest | Undecodable =>
      bytes.length > MAX_CONNECT_MESSAGE_BYTES
        ? new Undecodable(`a Connect message may be at most ${MAX_CONNECT_MESSAGE_BYTES} bytes (got ${bytes.length})`, status.RESOURCE_EXHAUSTED)
        : decodeConnectRequest(bytes),
  },
} as const;

const decodeConnectRequest = decodeOrUndecodable((bytes) => ConnectRequest.decode(bytes), "ConnectRequest");

/**
 * The largest message an instance may send. The largest legitimate one is a
 * hello holding 10,000 streams, about 1.5 MB with 128-character ids; the
 * server's limit for every call stays at 4 MiB, which admin batches need.
 */
export const MAX_CONNECT_MESSAGE_BYTES = 2 * 1024 * 1024;



/** One response in its wire form; a view of the encoder's bytes, not a copy. */
export function encodeResponse(message: ConnectResponse): Buffer {
  const bytes = ConnectResponse.encode(message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
