import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import type { Server } from "@grpc/grpc-js";
import { FILE_DESCRIPTOR_SET_BASE64 } from "../gen/descriptors.js";

/**
 * Serialised FileDescriptorProtos exactly as buf compiled them (written into
 * src/gen/descriptors.ts by `buf generate`).
 *
 * @grpc/reflection normally serves descriptors that protobufjs rebuilds from
 * a proto-loader definition, and those give map entries a name grpcurl rejects.
 * Handing it buf's own descriptors keeps what grpcurl sees byte-for-byte valid.
 */
export function loadFileDescriptors(): Uint8Array[] {
  const set = fromBinary(FileDescriptorSetSchema, Buffer.from(FILE_DESCRIPTOR_SET_BASE64, "base64"));
  return set.file.map((file) => toBinary(FileDescriptorProtoSchema, file));
}

/** Adds gRPC server reflection (v1 and v1alpha) for every service in the descriptor set. */
export function addReflection(server: Server): void {
  // ReflectionService only reads `fileDescriptorProtos` from each package entry.
  const definition = { descriptors: { fileDescriptorProtos: loadFileDescriptors() } } as unknown as PackageDefinition;
  new ReflectionService(definition).addToServer(server);
}
