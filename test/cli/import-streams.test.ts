import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sendStreams } from "../../src/catalog/send-streams.js";
import { freePort, runScript, type ScriptResult } from "../helpers/process.js";
import { TestCertificates } from "../helpers/test-certificates.js";
import { createTestDatabase } from "../helpers/test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { pollUntil } from "../helpers/wait.js";

/** Runs the CLI as an operator does. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<ScriptResult> {
  return runScript("src/cli/import-streams.ts", args, env);
}

const CSV = [
  "\ufeffid,url,name,sheet,cidade,estado,regiao,segmento,index",
  '86,https://radio.example/86.mp3,"Rádio ""86"", FM",Plan1,Recife,PE,Nordeste,Pop,1',
  "87,http://radio.example/87,Rádio 87,Plan1,São Paulo,SP,Sudeste,,2",
  "88,icy://radio.example/88,Rádio 88,,,,,,3",
].join("\r\n");

const JSON_ROWS = [
  { index: 200, url: "https://radio.example/200", name: "Duzentos", cidade: "Natal", enabled: "não" },
  { id: 201, url: "https://radio.example/201", name: "Duzentos e um", frequencia: 101.1 },
];

describe("npm run streams:import", () => {
  let orchestrator: TestOrchestrator;
  let dir: string;
  const file = (name: string, content: string) => {
    writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
  };
  const table = () => orchestrator.app.db.selectFrom("streams").selectAll().orderBy("id").execute();

  before(async () => {
    orchestrator = await startTestOrchestrator();
    dir = mkdtempSync(path.join(tmpdir(), "streams-import-"));
  });
  after(async () => {
    await orchestrator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a CSV import creates the rows", async () => {
    const csv = file("radios.csv", CSV);
    const result = await runCli([csv, "--address", orchestrator.grpcAddress]);
    assert.deepEqual(result, { code: 0, stdout: `imported 3 streams from ${csv}: 3 created, 0 updated, 0 unchanged\n`, stderr: "" });
    const rows = await table();
    assert.deepEqual(
      rows.map((r) => [r.id, r.url, r.name, r.metadata, r.enabled]),
      [
        ["86", "https://radio.example/86.mp3", 'Rádio "86", FM', { sheet: "Plan1", cidade: "Recife", estado: "PE", regiao: "Nordeste", segmento: "Pop", index: "1" }, true],
        ["87", "http://radio.example/87", "Rádio 87", { sheet: "Plan1", cidade: "São Paulo", estado: "SP", regiao: "Sudeste", index: "2" }, true],
        ["88", "icy://radio.example/88", "Rádio 88", { index: "3" }, true],
      ],
    );
  });

  test("a JSON import creates the rows, the address coming from ORCHESTRATOR_ADDRESS", async () => {
    const json = file("radios.json", JSON.stringify(JSON_ROWS));
    const result = await runCli([json], { ORCHESTRATOR_ADDRESS: orchestrator.grpcAddress });
    assert.equal(result.stdout, `imported 2 streams from ${json}: 2 created, 0 updated, 0 unchanged\n`);
    assert.equal(result.code, 0);
    const rows = await orchestrator.app.db.selectFrom("streams").selectAll().where("id", "in", ["200", "201"]).orderBy("id").execute();
    assert.deepEqual(
      rows.map((r) => [r.id, r.name, r.metadata, r.enabled]),
      [
        ["200", "Duzentos", { cidade: "Natal" }, false],
        ["201", "Duzentos e um", { frequencia: "101.1" }, true],
      ],
    );
  });

  // None of these writes anything (each checks the table is as it was), and each CLI run is a
  // process of its own, so they run side by side.
  describe("with both files imported", { concurrency: true }, () => {
    test("importing the same file again reports every row unchanged and rewrites nothing", async () => {
      const before = await table();
      const result = await runCli([path.join(dir, "radios.csv"), "--address", orchestrator.grpcAddress]);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /^imported 3 streams from .*radios\.csv: 0 created, 0 updated, 3 unchanged\n$/);
      assert.deepEqual(await table(), before);
    });

    test("one bad row fails the import with its line number and leaves the table exactly as it was", async () => {
      const before = await table();
      const lines = CSV.replace("Recife", "Olinda").split("\r\n");
      lines.push("89,https://radio.example/89,Nova,,,,,,4", "", "90,ftp://radio.example/90,Ruim,,,,,,5");
      const bad = file("bad.csv", lines.join("\r\n"));
      const result = await runCli([bad, "--address", orchestrator.grpcAddress]);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /^streams:import: row 7: url: scheme must be one of http, https, [^\n]* \(got ftp\)\n$/);
      assert.deepEqual(await table(), before);
    });

    test("a row the server rejects is reported by its file row and nothing is written", async () => {
      const before = await table();
      // Bypasses local validation to exercise the server's all-or-nothing transaction and the row translation.
      const specs = [
        { id: "86", url: "https://radio.example/86-new.mp3", name: "changed", metadata: {} },
        { id: "91", url: "gopher://radio.example/91", name: "bad", metadata: {} },
      ];
      await assert.rejects(sendStreams(orchestrator.grpcAddress, specs, [2, 9]), {
        name: "ImportError",
        message: /^row 9: url: scheme must be one of http, https, .* \(got gopher\)$/,
      });
      assert.deepEqual(await table(), before);
    });

    test("--dry-run prints the request and writes nothing", async () => {
      const before = await table();
      const json = file("dry.json", JSON.stringify([{ id: "dry-1", url: "https://radio.example/dry" }]));
      const result = await runCli([json, "--dry-run", "--address", orchestrator.grpcAddress]);
      assert.equal(result.code, 0);
      assert.deepEqual(JSON.parse(result.stdout), { streams: [{ id: "dry-1", url: "https://radio.example/dry", name: "", metadata: {} }] });
      assert.match(result.stderr, /^dry run: would import 1 stream from .*dry\.json into 127\.0\.0\.1:\d+; nothing was sent\n$/);
      assert.deepEqual(await table(), before);
    });

    test("the address defaults to 127.0.0.1 on GRPC_PORT", async () => {
      const port = orchestrator.grpcAddress.split(":")[1] ?? "";
      const result = await runCli([path.join(dir, "radios.json")], { GRPC_PORT: port });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /: 0 created, 0 updated, 2 unchanged\n$/);
    });

    test("usage errors exit 1 with one line; --help exits 0", async () => {
      const [missing, wrongType, help] = await Promise.all([runCli([]), runCli([file("radios.xlsx", "")]), runCli(["--help"])]);
      assert.deepEqual([missing.code, missing.stderr], [1, "streams:import: missing FILE; see --help\n"]);
      assert.equal(wrongType.code, 1);
      assert.match(wrongType.stderr, /^streams:import: .*radios\.xlsx: unsupported file type "\.xlsx"; use a \.csv or \.json file\n$/);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^usage: npm run streams:import -- FILE/);
    });
  });

  // Alone, after the others: its bound includes the CLI's start-up, which runs beside it would slow down.
  test("an unreachable orchestrator fails with exit code 1 and one line", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const result = await runCli([path.join(dir, "radios.csv"), "--address", address]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, new RegExp(`^streams:import: cannot reach the orchestrator at ${address.replace(/\./g, "\\.")}: .*ECONNREFUSED.*\\n$`));
    assert.equal(result.stderr.split("\n").length, 2, "one line, no stack trace");
    assert.ok(Date.now() - started < 5_000 + 3_000, "bounded by the 5 s deadline");
  });
});

describe("npm run streams:import against an orchestrator with TLS and admin tokens", () => {
  const ADMIN = "import-admin-token-0123456789";
  const INSTANCE = "import-instance-token-0123456789";
  let orchestrator: TestOrchestrator;
  let certificates: TestCertificates;
  let csv: string;
  let url: string;

  before(async () => {
    certificates = new TestCertificates();
    const server = certificates.server();
    orchestrator = await startTestOrchestrator({ TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: server.keyFile, ADMIN_TOKENS: ADMIN, INSTANCE_TOKENS: INSTANCE });
    csv = path.join(certificates.dir, "radios.csv");
    writeFileSync(csv, CSV);
    url = `grpcs://${orchestrator.grpcAddress}`;
  });
  after(async () => {
    await orchestrator?.close();
    certificates?.remove();
  });

  // Each run is a process of its own and only the last one writes, so the others run side by side first.
  test("without an admin token it is refused with one line naming UNAUTHENTICATED, with the wrong role PERMISSION_DENIED; with one it imports", async () => {
    const tls = { ORCHESTRATOR_CA_FILE: certificates.caFile };
    const [missing, wrongRole, plaintext, untrusted, dry] = await Promise.all([
      runCli([csv, "--address", url], tls),
      runCli([csv, "--address", url], { ...tls, ORCHESTRATOR_TOKEN: INSTANCE }),
      runCli([csv, "--address", orchestrator.grpcAddress], { ORCHESTRATOR_TOKEN: ADMIN }),
      runCli([csv, "--address", url], { ORCHESTRATOR_TOKEN: ADMIN }),
      runCli([csv, "--dry-run", "--address", url], tls),
    ]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, "");
    assert.match(missing.stderr, /^streams:import: UpsertStreams refused at 127\.0\.0\.1:\d+: UNAUTHENTICATED: authorization: this call needs an admin token[^\n]*; set ORCHESTRATOR_TOKEN to an admin token\n$/);
    assert.equal(wrongRole.code, 1);
    assert.match(wrongRole.stderr, /^streams:import: UpsertStreams refused at [^\n]*: PERMISSION_DENIED: authorization: a instance token may not make this call[^\n]*\n$/);
    assert.equal(plaintext.code, 1, "plaintext to a TLS port does not get through");
    assert.match(plaintext.stderr, /^streams:import: cannot reach the orchestrator at 127\.0\.0\.1:\d+: Failed to connect \(if it serves TLS, give grpcs:\/\/host:port\)\n$/);
    assert.equal(untrusted.code, 1, "the system's roots do not know the test CA");
    assert.match(untrusted.stderr, /^streams:import: cannot reach the orchestrator at [^\n]*certificate[^\n]*ORCHESTRATOR_CA_FILE[^\n]*\n$/);
    assert.match(dry.stderr, /into 127\.0\.0\.1:\d+ \(TLS\); nothing was sent\n$/);
    assert.equal(await orchestrator.app.db.selectFrom("streams").select("id").execute().then((r) => r.length), 0);

    const imported = await runCli([csv], { ...tls, ORCHESTRATOR_URL: url, ORCHESTRATOR_TOKEN: ADMIN });
    assert.deepEqual(imported, { code: 0, stdout: `imported 3 streams from ${csv}: 3 created, 0 updated, 0 unchanged\n`, stderr: "" });
  });
});

describe("streams:import given a standby replica", () => {
  test("it asks the standby where the leader is, says so in one line, and imports there", async () => {
    const database = await createTestDatabase();
    const ports = [await freePort(), await freePort()];
    const replica = (port: number) => ({ LEADER_ELECTION: "replicas", LEADER_LEASE_MS: "3000", GRPC_PORT: String(port), ADVERTISE_ADDRESS: `127.0.0.1:${port}` });
    const leader = await startTestOrchestrator(replica(ports[0]!), database);
    let standby: TestOrchestrator | undefined;
    const dir = mkdtempSync(path.join(tmpdir(), "finger-import-replicas-"));
    try {
      assert.ok(await pollUntil(async () => (await fetch(`${leader.httpBase}/readyz`)).status === 200, 15_000), "the first replica leads");
      standby = await startTestOrchestrator(replica(ports[1]!), database);
      const standbyStatus = async () => (await (await fetch(`${standby!.httpBase}/status`)).json()) as { role: string; leader_address: string };
      assert.ok(await pollUntil(async () => (await standbyStatus()).leader_address === leader.grpcAddress, 5_000), "the standby knows the leader");
      const csv = path.join(dir, "radios.csv");
      writeFileSync(csv, CSV);
      const result = await runCli([csv, "--address", standby.grpcAddress]);
      assert.deepEqual(result, {
        code: 0,
        stdout: `imported 3 streams from ${csv}: 3 created, 0 updated, 0 unchanged\n`,
        stderr: `streams:import: ${standby.grpcAddress} is a standby replica; sending to the leader at ${leader.grpcAddress}\n`,
      });
      assert.equal((await standbyStatus()).role, "standby");
      assert.deepEqual((await leader.app.db.selectFrom("streams").select("id").orderBy("id").execute()).map((r) => r.id), ["86", "87", "88"]);
    } finally {
      await standby?.close();
      await leader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
