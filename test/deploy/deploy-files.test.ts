import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { isPair, parse, parseDocument, visit } from "yaml";
import { projectRoot } from "../helpers/process.js";
import { orchestratorNodeFlags } from "../../scripts/orchestrator-node-flags.js";
import { loadConfig } from "../../src/config/config.js";

interface ComposeService {
  image?: string;
  extends?: { file: string; service: string };
  restart?: string;
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

/** The replicas file, with the paths of the sequences it tags !override (Compose replaces those instead of appending). */
const replicasDoc = parseDocument(readFileSync(path.join(projectRoot, "docker-compose.replicas.yaml"), "utf8"));
const overridden = new Set<string>();
visit(replicasDoc, {
  Node(_key, node, ancestors) {
    if (node.tag === "!override") overridden.add(ancestors.filter(isPair).map((p) => String(p.key)).join("."));
  },
});
const replicasFile = replicasDoc.toJS() as { services: Record<string, ComposeService> };

/**
 * Compose's merge rules (compose-file "merge"), for what these files use:
 * mappings merge key by key, healthcheck.test and !override sequences are
 * replaced, other sequences appended (ports: the same entry once).
 */
function merge(base: unknown, over: unknown, at: string): unknown {
  if (Array.isArray(base) && Array.isArray(over)) {
    return at.endsWith(".healthcheck.test") || overridden.has(at) ? over : [...new Set([...base, ...over])];
  }
  if (base && over && typeof base === "object" && typeof over === "object") {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [key, value] of Object.entries(over)) out[key] = key in out ? merge(out[key], value, `${at}.${key}`) : value;
    return out;
  }
  return over;
}

/** `docker compose -f docker-compose.orchestrator.yaml -f docker-compose.replicas.yaml` as Compose resolves it. */
function replicasProject(): Record<string, ComposeService> {
  const services: Record<string, ComposeService> = structuredClone(compose.services);
  for (const [name, service] of Object.entries(replicasFile.services)) {
    const { extends: from, ...own } = service;
    const start = from ? structuredClone(compose.services[from.service]!) : (services[name] ?? {});
    services[name] = merge(start, own, `services.${name}`) as ComposeService;
  }
  return services;
}

/** Compose's interpolation with nothing set: `${X:-d}` is d, `${X:?...}` the value a user must give. */
function interpolated(environment: Record<string, string>, given: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      String(value).replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, rest?: string) => given[name] ?? (op === "-" ? (rest ?? "") : "")),
    ]),
  );
}

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

  test("runs a single orchestrator unless told otherwise", () => {
    assert.ok(!("LEADER_ELECTION" in compose.services.orchestrator!.environment!), "the default is LEADER_ELECTION=single");
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

describe("docker-compose.replicas.yaml, on top of docker-compose.orchestrator.yaml", () => {
  const services = replicasProject();
  const replicas = Object.entries(services).filter(([name]) => name.startsWith("orchestrator"));
  const env = (service: ComposeService) => interpolated(service.environment!, { POSTGRES_PASSWORD: "change-me" });
  const hostPorts = (service: ComposeService) => service.ports!.map((p) => Number(p.split(":")[0]));

  test("adds a second replica to the one PostgreSQL, which both wait for", () => {
    assert.deepEqual(Object.keys(services).sort(), ["orchestrator", "orchestrator-b", "postgres"]);
    assert.deepEqual(replicasFile.services["orchestrator-b"]!.extends, { file: "docker-compose.orchestrator.yaml", service: "orchestrator" }, "the second replica is the first one's definition");
    for (const [name, service] of replicas) assert.equal(service.depends_on?.postgres?.condition, "service_healthy", name);
  });

  test("both elect a leader, on the same database", () => {
    const [a, b] = replicas.map(([, service]) => env(service));
    for (const e of [a!, b!]) assert.equal(e.LEADER_ELECTION, "replicas");
    for (const name of ["POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "LEADER_LEASE_MS"]) {
      assert.equal(a![name], b![name], `${name} is the same for both`);
    }
    assert.equal(a!.POSTGRES_HOST, "postgres", "the bundled database by default");
  });

  test("each replica has host ports of its own and advertises the gRPC one", () => {
    const all = replicas.flatMap(([, service]) => hostPorts(service));
    assert.equal(new Set(all).size, all.length, `no host port twice: ${all.join(", ")}`);
    assert.ok(overridden.has("services.orchestrator-b.ports"), "!override, or Compose would append the first replica's ports to the second's");
    const advertised = replicas.map(([, service]) => env(service).ADVERTISE_ADDRESS!);
    assert.equal(new Set(advertised).size, 2, `distinct advertised addresses: ${advertised.join(", ")}`);
    for (const [name, service] of replicas) {
      const grpc = service.ports!.find((p) => p.endsWith(":50051"))!;
      assert.equal(env(service).ADVERTISE_ADDRESS!.split(":").pop(), grpc.split(":")[0], `${name} advertises its published gRPC port`);
    }
  });

  test("each restarts after a lost leadership and is healthy while standing by", () => {
    for (const [name, service] of replicas) {
      assert.equal(service.restart, "unless-stopped", `${name}: a deposed leader exits 1 and must come back`);
      const check = service.healthcheck!.test.join(" ");
      assert.match(check, /127\.0\.0\.1:8080\/healthz/, `${name}: liveness, which a standby passes`);
      assert.doesNotMatch(check, /readyz/, `${name}: a standby is not ready by design`);
    }
  });

  test("the configuration each replica gets is one the orchestrator accepts", () => {
    for (const [name, service] of replicas) {
      const config = loadConfig(env(service), false);
      assert.equal(config.leadership.mode, "replicas", name);
      assert.equal(config.leadership.advertiseAddress, env(service).ADVERTISE_ADDRESS, name);
    }
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
