/**
 * Whole lines from a child's output, which arrives in chunks that need not end
 * at a line: one chunk may hold several lines, and initdb writes "initdb: ",
 * "error: " and its message in separate writes, which a pipe may deliver apart
 * (then a failure message quoting "the last error line" would quote "error:").
 * One collector per stream: stdout's and stderr's pieces must not mix.
 */
export interface OutputLines {
  add(chunk: string): void;
  /** Hands over what is left without a newline (the child has exited, or failed). */
  flush(): void;
}

export function outputLines(onLine: (line: string) => void): OutputLines {
  let partial = "";
  const emit = (raw: string) => {
    const line = raw.trim();
    if (line) onLine(line);
  };
  return {
    add(chunk) {
      const pieces = (partial + chunk).split("\n");
      partial = pieces.pop() ?? "";
      for (const piece of pieces) emit(piece);
    },
    flush() {
      emit(partial);
      partial = "";
    },
  };
}
