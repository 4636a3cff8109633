import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { projectRoot } from "../helpers/process.js";
import { orchestratorNodeFlags } from "../../scripts/orchestrator-node-flags.js";

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval: string };
  stop_grace_period?: string;
  volumes?: string[];
}

const compose = parse(readFileSync(path.join(projectRoot, "docker-compose.orchestrator.yaml"), "utf8")) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(path.join(projectRoot, "Dockerfile"), "utf8");

describe("docker-compose.orchestrator.yaml", () => {
  test("runs postgres and the orchestrator, which waits for a healthy database", () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ["orchestrator", "postgres"]);
    assert.equal(compose.services.orchestrator!.depends_on?.postgres?.condition, "service_healthy");
    assert.ok(compose.services.postgres!.healthcheck?.test.join(" ").includes("pg_isready"));
    assert.ok("pgdata" in compose.volumes, "database data lives in a named volume");
  });

  test("the orchestrator exposes gRPC 50051 and HTTP 8080 with a readiness healthcheck", () => {
    const o = compose.services.orchestrator!;
    assert.deepEqual(o.ports, ["50051:50051", "8080:8080"]);
    assert.match(o.healthcheck!.test.join(" "), /127\.0\.0\.1:8080\/readyz/);
    assert.equal(o.build?.dockerfile, "Dockerfile");
  });

  test("the environment uses the users' POSTGRES_* names and commits no password", () => {
    const env = compose.services.orchestrator!.environment!;
    for (const name of ["POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"]) {
      assert.ok(name in env, `${name} missing`);
    }
    assert.match(env.POSTGRES_PASSWORD!, /^\$\{POSTGRES_PASSWORD:\?/, "password must come from the environment");
    assert.match(compose.services.postgres!.environment!.POSTGRES_PASSWORD!, /^\$\{POSTGRES_PASSWORD:\?/);
    assert.equal(env.GRPC_PORT, "50051");
    assert.equal(env.HTTP_PORT, "8080");
  });

  test("certificates and token files come from a read-only secrets mount, named only when set, never inline", () => {
    const o = compose.services.orchestrator!;
    assert.ok(o.volumes?.includes("./secrets:/run/secrets/finger:ro"), "./secrets is mounted read-only");
    for (const name of ["TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CLIENT_CA_FILE", "INSTANCE_TOKENS_FILE", "VIEWER_TOKENS_FILE", "ADMIN_TOKENS_FILE"]) {
      assert.equal(o.environment![name], `\${${name}:-}`, `${name} is empty unless set`);
    }
    for (const inline of ["INSTANCE_TOKENS", "VIEWER_TOKENS", "ADMIN_TOKENS"]) assert.ok(!(inline in o.environment!), `no ${inline} in the compose file`);
    const ignored = (file: string) => readFileSync(path.join(projectRoot, file), "utf8").split("\n");
    assert.ok(ignored(".gitignore").includes("secrets/"), "secrets are not committed");
    for (const pattern of ["secrets", "*.pem", "*.key"]) assert.ok(ignored(".dockerignore").includes(pattern), `${pattern} never reaches the image`);
  });
});

describe("Dockerfile", () => {
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)];

  test("is multi-stage and installs production dependencies only in the final image", () => {
    assert.ok(froms.length >= 2, "at least a build and a runtime stage");
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /npm run build/);
  });

  test("runs as a non-root user, exposes both ports and checks its own health", () => {
    const user = dockerfile.match(/^USER\s+(\S+)/m)?.[1];
    assert.ok(user && user !== "root" && user !== "0", `USER ${user}`);
    assert.match(dockerfile, /^EXPOSE\s+50051\s+8080/m);
    assert.match(dockerfile, /^HEALTHCHECK .*\n?.*\/readyz/m);
    assert.match(dockerfile, /CMD \["node", (?:"--[^"]+", )*"dist\/src\/main\.js"\]/);
  });

  test("starts node with the same V8 flags as npm start", () => {
    const cmd = JSON.parse(dockerfile.match(/^CMD (\[.*\])$/m)![1]!) as string[];
    const flags = cmd.slice(1, -1);
    assert.ok(flags.length > 0, "the orchestrator's V8 flags are set in the image");
    assert.deepEqual(flags, orchestratorNodeFlags());
  });

  test("ships what reflection and migrations need at run time", () => {
    // Reflection's descriptors are generated TypeScript (src/gen/descriptors.ts), compiled with the rest of src.
    assert.match(dockerfile, /COPY src \.\/src/);
    assert.match(dockerfile, /COPY migrations/);
    const build = JSON.parse(readFileSync(path.join(projectRoot, "tsconfig.build.json"), "utf8")) as { include: string[] };
    assert.ok(build.include.includes("migrations"), "migrations are compiled into dist/");
    assert.ok(build.include.includes("src"), "src, with src/gen/descriptors.ts, is compiled into dist/");
    assert.ok(existsSync(path.join(projectRoot, "src/gen/descriptors.ts")), "buf generate writes the reflection descriptors");
  });
});
