/**
 * A file the orchestrator rereads when it changes: token lists and TLS
 * certificates, which operators and tools such as cert-manager replace in
 * place while the orchestrator runs.
 *
 * It polls `stat` rather than using fs.watch: Kubernetes updates a mounted
 * secret by swapping a symbolic link, which inotify on the file itself never
 * reports, and polling a few small files every second costs nothing. A
 * change is noticed when the modification time, size or inode differs.
 */
import { readFileSync, statSync } from "node:fs";

export interface FileVersion {
  text: string;
  bytes: Buffer;
}

function signature(file: string): string {
  const s = statSync(file);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

export class WatchedFiles {
  private timer: NodeJS.Timeout | undefined;
  private last: string;

  /**
   * Reads `files` once, now (an unreadable file throws, for start-up to
   * report), then polls them every `intervalMs` once started; `onChange` gets
   * every file's content whenever any of them changed. A read that fails
   * meanwhile goes to `onError`, and the previous content stays in use.
   */
  constructor(
    private readonly files: readonly string[],
    private readonly onChange: (versions: FileVersion[]) => void,
    private readonly onError: (error: Error) => void,
    private readonly intervalMs = 1_000,
  ) {
    this.last = this.signatures();
  }

  /** The files' current content. */
  read(): FileVersion[] {
    return this.files.map((file) => {
      const bytes = readFileSync(file);
      return { bytes, text: bytes.toString("utf8") };
    });
  }

  start(): void {
    this.timer ??= setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Checks for a change now (what the timer does). */
  poll(): void {
    try {
      const now = this.signatures();
      if (now === this.last) return;
      const versions = this.read();
      this.last = now;
      this.onChange(versions);
    } catch (error) {
      // A half-written file or a swap in progress: next poll sees it again, as its signature did not advance.
      this.onError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private signatures(): string {
    return this.files.map(signature).join("|");
  }
}
