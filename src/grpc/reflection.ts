import { readFileSync } from "node:fs";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import type { Server } from "@grpc/grpc-js";

/** Descriptors produced by `buf build` (see `npm run generate`), shipped next to the generated code. */
export const descriptorSetUrl = new URL("../gen/descriptors.binpb", import.meta.url);

/**
 * Serialised FileDescriptorProtos exactly as buf built them.
 *
 * @grpc/reflection normally serves descriptors that protobufjs rebuilds from
 * a proto-loader definition, and those give map entries a name grpcurl rejects.
 * Handing it buf's own descriptors keeps what grpcurl sees byte-for-byte valid.
 */
export function loadFileDescriptors(url: URL = descriptorSetUrl): Uint8Array[] {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(url));
  return set.file.map((file) => toBinary(FileDescriptorProtoSchema, file));
}

/** Adds gRPC server reflection (v1 and v1alpha) for every service in the descriptor set. */
export function addReflection(server: Server, descriptors: Uint8Array[] = loadFileDescriptors()): void {
  // ReflectionService only reads `fileDescriptorProtos` from each package entry.
  const definition = { descriptors: { fileDescriptorProtos: descriptors } } as unknown as PackageDefinition;
  new ReflectionService(definition).addToServer(server);
}
