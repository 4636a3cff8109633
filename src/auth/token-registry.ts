/**
 * Every bearer token the orchestrator accepts, by role, from the variables
 * and files the operator configured (README, "Security"). Files are reread
 * when they change, so tokens rotate without a restart: add the new one,
 * move the clients over, remove the old one. A file that fails to parse is
 * logged and the tokens it held before stay valid.
 */
import {
  CredentialError,
  digestOf,
  fileEntries,
  credentialsByDigest,
  parseCredentials,
  variableEntries,
  type Credential,
  type Role,
} from "./credentials.js";
import { WatchedFiles } from "./watched-file.js";

export interface TokenSources {
  instanceTokens?: string;
  instanceTokensFile?: string;
  viewerTokens?: string;
  viewerTokensFile?: string;
  adminTokens?: string;
  adminTokensFile?: string;
}

const ROLES: Array<{ role: Role; variable: string; inline: keyof TokenSources; file: keyof TokenSources }> = [
  { role: "instance", variable: "INSTANCE_TOKENS", inline: "instanceTokens", file: "instanceTokensFile" },
  { role: "viewer", variable: "VIEWER_TOKENS", inline: "viewerTokens", file: "viewerTokensFile" },
  { role: "admin", variable: "ADMIN_TOKENS", inline: "adminTokens", file: "adminTokensFile" },
];

export class TokenRegistry {
  /** True once any token source is set: from then on every call but health (and reflection) needs a token. */
  readonly required: boolean;
  private readonly inline: Credential[];
  private fromFiles = new Map<string, Credential[]>();
  /** Every credential valid now: rebuilt when a file changes, not on every lookup (one per call). */
  private all: Credential[] = [];
  private byDigest = new Map<string, Credential>();
  private readonly watchers: WatchedFiles[] = [];

  /**
   * Reads every source now.
   * @throws CredentialError naming the variable or file line at fault (start-up reports it and exits).
   */
  constructor(sources: TokenSources, onReloadError: (file: string, error: Error) => void = () => undefined, onReload: (file: string, count: number) => void = () => undefined) {
    this.required = ROLES.some(({ inline, file }) => sources[inline] !== undefined || sources[file] !== undefined);
    this.inline = ROLES.flatMap(({ role, variable, inline }) => parseCredentials(role, variableEntries(variable, sources[inline])));
    for (const { role, file: key } of ROLES) {
      const file = sources[key];
      if (file === undefined) continue;
      let watcher: WatchedFiles;
      try {
        watcher = new WatchedFiles(
          [file],
          ([version]) => {
            const credentials = parseCredentials(role, fileEntries(file, version!.text));
            this.fromFiles.set(file, credentials);
            this.rebuild();
            onReload(file, credentials.length);
          },
          (error) => onReloadError(file, error),
        );
        this.fromFiles.set(file, parseCredentials(role, fileEntries(file, watcher.read()[0]!.text)));
      } catch (error) {
        if (error instanceof CredentialError) throw error;
        throw new CredentialError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
      this.watchers.push(watcher);
    }
    this.rebuild();
  }

  private rebuild(): void {
    this.all = [...this.inline, ...[...this.fromFiles.values()].flat()];
    this.byDigest = credentialsByDigest(this.all);
  }

  /** Starts following the token files. */
  start(): void {
    for (const watcher of this.watchers) watcher.start();
  }

  stop(): void {
    for (const watcher of this.watchers) watcher.stop();
  }

  /** Rereads changed files now (what the timers do every second). */
  poll(): void {
    for (const watcher of this.watchers) watcher.poll();
  }

  /** The credential `token` is, if any. */
  lookup(token: string): Credential | undefined {
    return this.byDigest.get(digestOf(token).toString("hex"));
  }

  /** How many tokens of each role are valid now (for the start-up log; no token is ever shown). */
  counts(): Record<Role, number> {
    const counts: Record<Role, number> = { instance: 0, viewer: 0, admin: 0 };
    for (const credential of this.all) counts[credential.role]++;
    return counts;
  }
}
