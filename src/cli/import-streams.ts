import { parseArgs } from "node:util";
import { ImportError, readImportFile, rowsToSpecs } from "../catalog/import-file.js";
import { sendStreams } from "../catalog/send-streams.js";
import { describeTarget, muteIpServerNameWarning, resolveTarget, TargetError } from "./orchestrator-target.js";

const USAGE = `usage: npm run streams:import -- FILE [--address ADDRESS] [--dry-run]

Imports radio streams into the orchestrator's catalog, all or nothing, in one
UpsertStreams call. FILE is a .csv (header row) or .json (array of objects) shaped
like the streams table: id (or index), url, name, optional enabled
(true/false/1/0/yes/no/sim/não); every other column becomes metadata.

  --address ADDRESS    orchestrator gRPC address: host:port, grpcs://host[:port] or
                       https://... for TLS (port 443 by default), grpc:// or http://
                       for plaintext; default $ORCHESTRATOR_URL, else
                       $ORCHESTRATOR_ADDRESS, else 127.0.0.1:$GRPC_PORT (50051).
                       Any replica will do: a standby names the leader, and the
                       import is sent there
  --dry-run            validate and print the request that would be sent; write nothing
  -h, --help           show this help

Environment (once the orchestrator has tokens or TLS):
  ORCHESTRATOR_TOKEN       an admin token (ADMIN_TOKENS), sent as a bearer token
  ORCHESTRATOR_CA_FILE     PEM CA certificates to trust instead of the system's roots;
                           setting it (or a certificate below) also turns TLS on
  ORCHESTRATOR_CERT_FILE,  a client certificate and its key, for an orchestrator with
  ORCHESTRATOR_KEY_FILE    mutual TLS (TLS_CLIENT_CA_FILE)
`;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        address: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new ImportError(`${(error as Error).message.split(". ")[0]}; see --help`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [file, ...extra] = positionals;
  if (file === undefined) throw new ImportError("missing FILE; see --help");
  if (extra.length) throw new ImportError(`expected one FILE, got ${positionals.length}; see --help`);
  const target = resolveTarget(values.address, process.env);

  const rows = await readImportFile(file);
  const specs = rowsToSpecs(rows);
  if (values["dry-run"]) {
    // The request as grpcurl would take it (`-d @`); the summary goes to stderr to keep stdout clean JSON.
    process.stdout.write(`${JSON.stringify({ streams: specs }, null, 2)}\n`);
    process.stderr.write(`dry run: would import ${plural(specs.length, "stream")} from ${file} into ${describeTarget(target)}; nothing was sent\n`);
    return;
  }
  const outcome = await sendStreams(target.address, specs, rows.map((r) => r.row), {
    security: target.security,
    onLeader: (standby, leader) => process.stderr.write(`streams:import: ${standby} is a standby replica; sending to the leader at ${leader}\n`),
  });
  process.stdout.write(
    `imported ${plural(specs.length, "stream")} from ${file}: ${outcome.created} created, ${outcome.updated} updated, ${outcome.unchanged} unchanged\n`,
  );
}

muteIpServerNameWarning();
main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof ImportError || error instanceof TargetError ? error.message : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
  // One line whatever the cause: messages from parsers may carry newlines.
  process.stderr.write(`streams:import: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exitCode = 1;
});
