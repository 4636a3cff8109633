import * as grpc from "@grpc/grpc-js";
import {
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMethod,
  type DescService,
  type FileRegistry,
  type JsonObject,
} from "@bufbuild/protobuf";
import { ReflectionClient, strictRegistry } from "./reflection-client.js";

/** Per-call options. */
export interface DynamicCallOptions {
  /** Fails the call with DEADLINE_EXCEEDED after this many milliseconds. */
  deadlineMs?: number;
}

/** A server-streaming call: iterate its messages as proto3 JSON, or stop it early. */
export interface DynamicStream extends AsyncIterable<JsonObject> {
  /** Ends the call; iteration then finishes without an error. */
  cancel(): void;
}

// Messages travel as raw bytes; encoding happens outside grpc-js so that a
// decoding failure surfaces as our error rather than a synthetic INTERNAL.
const passThrough = (bytes: Buffer): Buffer => bytes;

// Past this many unread messages the call is paused, so a slow reader does
// not buffer an endless stream.
const HIGH_WATER = 64;

/**
 * Calls a service the way grpcurl does: the schema comes from server
 * reflection (checked by {@link strictRegistry}), requests and responses are
 * proto3 JSON, and nothing depends on generated stubs.
 */
export class DynamicClient {
  private readonly streams = new Set<DynamicStream>();

  private constructor(
    readonly address: string,
    readonly service: string,
    private readonly descriptor: DescService,
    private readonly registry: FileRegistry,
    private readonly client: grpc.Client,
  ) {}

  /** Resolves `service` (fully qualified, e.g. `grpc.health.v1.Health`) by reflection at `address`. */
  static async connect(address: string, service: string): Promise<DynamicClient> {
    const reflection = new ReflectionClient(address);
    let registry: FileRegistry;
    try {
      const listed = await reflection.listServices();
      if (!listed.includes(service)) {
        throw new Error(`service ${service} is not listed by reflection at ${address}; listed: ${listed.join(", ") || "(none)"}`);
      }
      registry = strictRegistry(await reflection.fileSetFor(service));
    } finally {
      reflection.close();
    }
    const descriptor = registry.getService(service);
    if (!descriptor) throw new Error(`service ${service} is listed at ${address} but its reflected files do not define it`);
    return new DynamicClient(address, service, descriptor, registry, new grpc.Client(address, grpc.credentials.createInsecure()));
  }

  /** Method names as declared in the proto, e.g. `Check`. */
  methods(): string[] {
    return this.descriptor.methods.map((m) => m.name);
  }

  /**
   * Makes a unary call. Rejects without calling when the method or a request
   * field is unknown; gRPC failures reject with grpc-js's ServiceError as is.
   */
  async call(method: string, request: JsonObject, options: DynamicCallOptions = {}): Promise<JsonObject> {
    const desc = this.resolve(method, "unary");
    const body = this.encode(desc, request);
    const response = await new Promise<Buffer>((resolve, reject) => {
      this.client.makeUnaryRequest(
        this.path(desc),
        passThrough,
        passThrough,
        body,
        new grpc.Metadata(),
        this.callOptions(options),
        (error, value) => (error ? reject(error) : resolve(value ?? Buffer.alloc(0))),
      );
    });
    return this.decode(desc, response);
  }

  /**
   * Starts a server-streaming call. Throws without calling when the method is
   * unknown or not server-streaming, or a request field is unknown. A gRPC
   * failure other than the caller's own cancel is thrown by the iterator,
   * after the messages received before it.
   */
  stream(method: string, request: JsonObject, options: DynamicCallOptions = {}): DynamicStream {
    const desc = this.resolve(method, "server_streaming");
    const call = this.client.makeServerStreamRequest(
      this.path(desc),
      passThrough,
      passThrough,
      this.encode(desc, request),
      new grpc.Metadata(),
      this.callOptions(options),
    );
    const queue: Buffer[] = [];
    let failure: grpc.ServiceError | undefined;
    let ended = false;
    let cancelled = false;
    let wake: (() => void) | undefined;
    const wakeUp = () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    call.on("data", (chunk: Buffer) => {
      queue.push(chunk);
      if (queue.length >= HIGH_WATER) call.pause();
      wakeUp();
    });
    // Always listened to: an unheard 'error' event would crash the test process.
    call.on("error", (error: grpc.ServiceError) => {
      failure = error;
      wakeUp();
    });
    call.on("end", () => {
      ended = true;
      wakeUp();
    });

    const stream: DynamicStream = {
      cancel: () => {
        cancelled = true;
        this.streams.delete(stream);
        call.cancel();
        wakeUp();
      },
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<JsonObject>> => {
          for (;;) {
            if (cancelled) return { done: true, value: undefined };
            const chunk = queue.shift();
            if (chunk) {
              if (call.isPaused()) call.resume();
              return { done: false, value: this.decode(desc, chunk) };
            }
            if (failure) {
              this.streams.delete(stream);
              throw failure;
            }
            if (ended) {
              this.streams.delete(stream);
              return { done: true, value: undefined };
            }
            await new Promise<void>((resolve) => (wake = resolve));
          }
        },
        // Leaving a for-await loop early must not leave the call running.
        return: async (): Promise<IteratorResult<JsonObject>> => {
          stream.cancel();
          return { done: true, value: undefined };
        },
      }),
    };
    this.streams.add(stream);
    return stream;
  }

  /** Cancels open streams and closes the channel. */
  close(): void {
    for (const stream of [...this.streams]) stream.cancel();
    this.client.close();
  }

  private resolve(name: string, kind: "unary" | "server_streaming"): DescMethod {
    const method = this.descriptor.methods.find((m) => m.name === name);
    if (!method) throw new Error(`${this.service} has no method ${JSON.stringify(name)}; its methods: ${this.methods().join(", ")}`);
    if (method.methodKind !== kind) {
      const hint = method.methodKind === "unary" ? "use call()" : method.methodKind === "server_streaming" ? "use stream()" : "not supported here";
      throw new Error(`${this.service}/${name} is ${method.methodKind}, not ${kind} (${hint})`);
    }
    return method;
  }

  private path(method: DescMethod): string {
    return `/${this.service}/${method.name}`;
  }

  private callOptions(options: DynamicCallOptions): grpc.CallOptions {
    return options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  }

  private encode(method: DescMethod, request: JsonObject): Buffer {
    let message;
    try {
      // Strict like grpcurl: unknown fields and unknown enum names are errors.
      message = fromJson(method.input, request, { registry: this.registry, ignoreUnknownFields: false });
    } catch (error) {
      throw new Error(`${this.service}/${method.name}: invalid ${method.input.typeName}: ${(error as Error).message}`, { cause: error });
    }
    const bytes = toBinary(method.input, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private decode(method: DescMethod, bytes: Uint8Array): JsonObject {
    // The registry lets Any and other well-known types render as grpcurl shows them.
    const message = fromBinary(method.output, bytes);
    // Our methods return plain messages, which always serialize to JSON objects.
    return toJson(method.output, message, { registry: this.registry }) as JsonObject;
  }
}
