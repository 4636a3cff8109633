/**
 * Certificates for TLS tests, made with the openssl command (installed by
 * scripts/install-system-deps.sh): a CA, server certificates for 127.0.0.1 and
 * localhost, and client certificates whose subject CN (and a DNS SAN) carry an
 * instance id, all signed by the CA, in a temp folder the caller removes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface KeyPair {
  certFile: string;
  keyFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export class TestCertificates {
  readonly dir = mkdtempSync(path.join(tmpdir(), "finger-certs-"));
  readonly caFile: string;
  private readonly caKey: string;
  private serial = 1;

  /** A new CA in a new folder; `name` tells two CAs apart in their subjects. */
  constructor(name = "finger test CA") {
    this.caFile = path.join(this.dir, "ca.pem");
    this.caKey = path.join(this.dir, "ca.key");
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", this.caKey, "-out", this.caFile, "-days", "2", "-subj", `/CN=${name}`], this.dir);
  }

  /** A certificate for the orchestrator on loopback (`name` makes a second, different one). */
  server(name = "server"): KeyPair {
    return this.issue(name, "localhost", ["DNS:localhost", "IP:127.0.0.1"], "serverAuth");
  }

  /** A client certificate carrying `instanceId` as its CN and as a DNS SAN. */
  client(instanceId: string): KeyPair {
    return this.issue(`client-${instanceId}`, instanceId, [`DNS:${instanceId}`], "clientAuth");
  }

  private issue(file: string, commonName: string, altNames: string[], usage: string): KeyPair {
    const keyFile = path.join(this.dir, `${file}.key`);
    const csr = path.join(this.dir, `${file}.csr`);
    const certFile = path.join(this.dir, `${file}.pem`);
    const ext = path.join(this.dir, `${file}.ext`);
    writeFileSync(ext, `subjectAltName=${altNames.join(",")}\nextendedKeyUsage=${usage}\n`);
    openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", csr, "-subj", `/CN=${commonName}`], this.dir);
    openssl(["x509", "-req", "-in", csr, "-CA", this.caFile, "-CAkey", this.caKey, "-set_serial", String(this.serial++), "-days", "2", "-extfile", ext, "-out", certFile], this.dir);
    return { certFile, keyFile };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
