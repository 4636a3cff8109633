/**
 * Requests that are not protobuf of the expected type. grpc-js answers a
 * deserializer that throws with INTERNAL ("Error deserializing request"),
 * which says the server broke when the client did. So the deserializers
 * registered here never throw: they hand the handler an Undecodable, and the
 * call ends with INVALID_ARGUMENT naming what was expected.
 */
import { status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";

export class Undecodable {
  /** `code`: INVALID_ARGUMENT for bytes that are not the message, RESOURCE_EXHAUSTED for a message over a size limit. */
  constructor(
    readonly details: string,
    readonly code: status = status.INVALID_ARGUMENT,
  ) {}
}

/** `decode`, returning an Undecodable instead of throwing. */
export function decodeOrUndecodable<T>(decode: (bytes: Buffer) => T, what: string): (bytes: Buffer) => T | Undecodable {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      return new Undecodable(`not a ${what} in protobuf encoding (${(error as Error).message})`);
    }
  };
}

const typeName = (path: string) => `${path.split("/").pop()}Request`;

/**
 * A unary and server-streaming service whose requests may be undecodable:
 * the definition with tolerant deserializers, and the implementation with
 * each handler ending such a call with INVALID_ARGUMENT before it runs.
 */
export function tolerant<D extends ServiceDefinition, I extends object>(definition: D, implementation: I): [D, UntypedServiceImplementation] {
  const tolerantDefinition = Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [name, { ...method, requestDeserialize: decodeOrUndecodable(method.requestDeserialize, typeName(method.path)) }]),
  ) as unknown as D;
  const guarded: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = (implementation as Record<string, (...args: unknown[]) => void>)[name]!;
    if (method.requestStream) throw new Error(`${method.path}: client streaming is not handled here`);
    guarded[name] = method.responseStream
      ? (call: ServerWritableStream<unknown, unknown>) => {
          if (call.request instanceof Undecodable) call.emit("error", { code: call.request.code, details: call.request.details });
          else handler(call);
        }
      : (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
          if (call.request instanceof Undecodable) callback({ code: call.request.code, details: call.request.details });
          else handler(call, callback);
        };
  }
  return [tolerantDefinition, guarded];
}
