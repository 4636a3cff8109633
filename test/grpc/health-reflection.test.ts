import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { credentials } from "@grpc/grpc-js";
import { HealthCheckResponse_ServingStatus, HealthClient, type HealthCheckResponse } from "../../src/gen/grpc/health/v1/health.js";
import { ReflectionClient, strictRegistry } from "../helpers/reflection-client.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";

function check(client: HealthClient, service: string): Promise<HealthCheckResponse> {
  return new Promise((resolve, reject) =>
    client.check({ service }, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

describe("gRPC health and reflection", () => {
  let orchestrator: TestOrchestrator;
  let health: HealthClient;

  before(async () => {
    orchestrator = await startTestOrchestrator();
    health = new HealthClient(orchestrator.grpcAddress, credentials.createInsecure());
  });
  after(async () => {
    health.close();
    await orchestrator.close();
  });

  test("the server and each service report SERVING once started", async () => {
    for (const service of ["", "orchestrator.v1.OrchestratorService", "orchestrator.v1.AdminService"]) {
      const response = await check(health, service);
      assert.equal(response.status, HealthCheckResponse_ServingStatus.SERVING, `service "${service}"`);
    }
  });

  test("an unknown service is NOT_FOUND", async () => {
    await assert.rejects(check(health, "no.such.Service"), (e: { code: number }) => e.code === 5);
  });

  test("reflection lists every service, health included", async () => {
    const reflection = new ReflectionClient(orchestrator.grpcAddress);
    try {
      const services = await reflection.listServices();
      for (const name of ["grpc.health.v1.Health", "orchestrator.v1.AdminService", "orchestrator.v1.OrchestratorService"]) {
        assert.ok(services.includes(name), `${name} missing from ${services.join(", ")}`);
      }
    } finally {
      reflection.close();
    }
  });

  test("reflected descriptors load into a strict registry (map entries named as protoc does)", async () => {
    const reflection = new ReflectionClient(orchestrator.grpcAddress);
    try {
      for (const service of ["grpc.health.v1.Health", "orchestrator.v1.OrchestratorService", "orchestrator.v1.AdminService"]) {
        const registry = strictRegistry(await reflection.fileSetFor(service));
        const descriptor = registry.getService(service);
        assert.ok(descriptor, `${service} not resolvable`);
        assert.ok(descriptor.methods.length > 0);
      }
      const registry = strictRegistry(await reflection.fileSetFor("orchestrator.v1.Hello"));
      const hello = registry.getMessage("orchestrator.v1.Hello");
      assert.equal(hello?.field.labels?.fieldKind, "map");
    } finally {
      reflection.close();
    }
  });

  test("the strict check rejects a map entry with the wrong implicit name", () => {
    assert.throws(
      () =>
        strictRegistry([
          {
            $typeName: "google.protobuf.FileDescriptorProto",
            name: "bad.proto",
            package: "bad",
            syntax: "proto3",
            dependency: [],
            publicDependency: [],
            weakDependency: [],
            optionDependency: [],
            enumType: [],
            service: [],
            extension: [],
            messageType: [
              {
                name: "M",
                field: [{ name: "labels", number: 1, label: 3, type: 11, typeName: ".bad.M.LabelEntry" }],
                nestedType: [{ name: "LabelEntry", options: { mapEntry: true } }],
              },
            ],
          } as never,
        ]),
      /incorrect implicit map entry name/,
    );
  });
});
