import path from "node:path";
import { createRequire } from "node:module";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fromBinary, createFileRegistry, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";

const require = createRequire(import.meta.url);
const reflectionProto = path.join(
  path.dirname(require.resolve("@grpc/reflection/package.json")),
  "build/proto/grpc/reflection/v1/reflection.proto",
);

interface ReflectionResponse {
  listServicesResponse?: { service: Array<{ name: string }> };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

/**
 * Talks to a server's reflection service the way grpcurl does: lists
 * services, fetches the files that define them and their imports, and builds
 * a strict descriptor registry from the raw bytes the server returned.
 */
export class ReflectionClient {
  private readonly client: grpc.Client & Record<string, (...args: unknown[]) => grpc.ClientDuplexStream<object, ReflectionResponse>>;

  constructor(address: string) {
    const definition = protoLoader.loadSync(reflectionProto, { keepCase: false, longs: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    this.client = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure()) as never;
  }

  private ask(request: object): Promise<ReflectionResponse> {
    return new Promise((resolve, reject) => {
      const call = this.client.ServerReflectionInfo!();
      call.on("data", (response: ReflectionResponse) => {
        resolve(response);
        call.end();
      });
      call.on("error", reject);
      call.write(request);
    });
  }

  async listServices(): Promise<string[]> {
    const response = await this.ask({ listServices: "*" });
    return (response.listServicesResponse?.service ?? []).map((s) => s.name).sort();
  }

  private async files(request: object): Promise<FileDescriptorProto[]> {
    const response = await this.ask(request);
    if (response.errorResponse) throw new Error(`reflection error ${response.errorResponse.errorCode}: ${response.errorResponse.errorMessage}`);
    return (response.fileDescriptorResponse?.fileDescriptorProto ?? []).map((b) => fromBinary(FileDescriptorProtoSchema, b));
  }

  /** Fetches the file defining `symbol` and, transitively, every file it imports. */
  async fileSetFor(symbol: string): Promise<FileDescriptorProto[]> {
    const byName = new Map<string, FileDescriptorProto>();
    const pending = await this.files({ fileContainingSymbol: symbol });
    while (pending.length) {
      const file = pending.pop()!;
      if (byName.has(file.name)) continue;
      byName.set(file.name, file);
      for (const dep of file.dependency) if (!byName.has(dep)) pending.push(...(await this.files({ fileByFilename: dep })));
    }
    return [...byName.values()];
  }

  close(): void {
    this.client.close();
  }
}

function camel(name: string): string {
  return name.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Builds a registry from descriptors, rejecting what strict descriptor
 * builders (such as the one grpcurl uses) reject: unresolved imports and map
 * entries whose name is not `<FieldName>Entry`.
 */
export function strictRegistry(files: FileDescriptorProto[]): FileRegistry {
  for (const file of files) {
    const visit = (messages: FileDescriptorProto["messageType"], scope: string) => {
      for (const message of messages) {
        const entries = new Map(message.nestedType.filter((n) => n.options?.mapEntry).map((n) => [n.name, n]));
        for (const field of message.field) {
          const typeName = field.typeName.split(".").pop() ?? "";
          if (entries.has(typeName) && typeName !== `${camel(field.name)}Entry`) {
            throw new Error(`${file.name}: ${scope}${message.name}.${field.name}: incorrect implicit map entry name ${typeName}`);
          }
        }
        visit(message.nestedType, `${scope}${message.name}.`);
      }
    };
    visit(file.messageType, `${file.package}.`);
  }
  return createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
}
