/**
 * The orchestrator's TLS certificate, key and (for mutual TLS) client CA, read
 * from files and reread when they change, so that cert-manager and similar
 * tools can rotate them in place. A new set is checked before use (each file
 * parses, the key is the certificate's); a bad one is reported and the set in
 * use stays. Both servers take it: gRPC as a grpc-js certificate provider,
 * the HTTP shim as a secure context.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import type { experimental } from "@grpc/grpc-js";
import { WatchedFiles, type FileVersion } from "./watched-file.js";

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export interface TlsFileNames {
  certFile: string;
  keyFile: string;
  /** Set for mutual TLS: clients must present a certificate signed by this CA. */
  clientCaFile?: string;
}

export interface TlsSet {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  /** When the certificate stops being valid (certificate-expiry.ts warns before it does). */
  validTo: string;
}

/** A TLS file set that does not hold together; the message names the file and the rule. */
export class TlsFileError extends Error {
  override name = "TlsFileError";
}

function check(names: TlsFileNames, [cert, key, ca]: FileVersion[]): TlsSet {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert!.bytes);
  } catch {
    throw new TlsFileError(`${names.certFile}: not a PEM certificate`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key!.bytes);
  } catch {
    throw new TlsFileError(`${names.keyFile}: not a PEM private key (an encrypted key is not supported)`);
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new TlsFileError(`${names.keyFile}: is not the private key of the certificate in ${names.certFile}`);
  if (ca) {
    try {
      new X509Certificate(ca.bytes);
    } catch {
      throw new TlsFileError(`${names.clientCaFile}: not a PEM certificate`);
    }
  }
  try {
    createSecureContext({ cert: cert!.bytes, key: key!.bytes, ...(ca ? { ca: ca.bytes } : {}) });
  } catch (error) {
    throw new TlsFileError(`${names.certFile}: cannot be used for TLS (${(error as Error).message})`);
  }
  return { cert: cert!.bytes, key: key!.bytes, ...(ca ? { ca: ca.bytes } : {}), validTo: certificate.validTo };
}

export class TlsFiles implements experimental.CertificateProvider {
  private current: TlsSet;
  private readonly watcher: WatchedFiles;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly contextListeners = new Set<(options: SecureContextOptions) => void>();

  /**
   * Reads and checks the files now.
   * @throws TlsFileError (or a read error naming the file) for start-up to report.
   */
  constructor(
    readonly names: TlsFileNames,
    private readonly events: { reloaded(set: TlsSet): void; rejected(error: Error): void },
    intervalMs = 1_000,
  ) {
    const files = [names.certFile, names.keyFile, ...(names.clientCaFile ? [names.clientCaFile] : [])];
    let versions: FileVersion[];
    try {
      this.watcher = new WatchedFiles(files, (v) => this.replace(check(names, v)), (error) => events.rejected(error), intervalMs);
      versions = this.watcher.read();
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw new TlsFileError(`${e.path ?? "a TLS file"}: cannot be read (${e.code ?? e.message})`);
    }
    this.current = check(names, versions);
  }

  get mutual(): boolean {
    return this.names.clientCaFile !== undefined;
  }

  get set(): TlsSet {
    return this.current;
  }

  start(): void {
    this.watcher.start();
  }

  stop(): void {
    this.watcher.stop();
  }

  /** Checks the files for a change now (what the timer does every second). */
  poll(): void {
    this.watcher.poll();
  }

  /** Options for a Node TLS server (the HTTP shim), and every later set. */
  secureContext(onChange: (options: SecureContextOptions) => void): SecureContextOptions {
    this.contextListeners.add(onChange);
    return this.contextOptions();
  }

  private contextOptions(): SecureContextOptions {
    return { cert: this.current.cert, key: this.current.key, ...(this.current.ca ? { ca: this.current.ca } : {}) };
  }

  private replace(set: TlsSet): void {
    this.current = set;
    for (const listener of this.identityListeners) listener({ certificate: set.cert, privateKey: set.key });
    if (set.ca) for (const listener of this.caListeners) listener({ caCertificate: set.ca });
    for (const listener of this.contextListeners) listener(this.contextOptions());
    this.events.reloaded(set);
  }

  // The grpc-js certificate provider interface: a listener gets the current set, then every new one.
  // Not synchronously: grpc-js registers its server's watcher only after adding the listener, and
  // an update delivered before that is lost (the server would then drop every connection).
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => this.current.ca && this.caListeners.has(listener) && listener({ caCertificate: this.current.ca }));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => this.identityListeners.has(listener) && listener({ certificate: this.current.cert, privateKey: this.current.key }));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}
