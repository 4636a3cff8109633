import { pino, type Logger } from "pino";

export type { Logger };

/** Paths never written to logs, wherever they appear. */
const REDACT = [
  "password",
  "*.password",
  "databaseUrl",
  "*.databaseUrl",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
];

/**
 * Creates the root logger: JSON lines on stdout, or pino-pretty for a person
 * at a terminal. Components derive children with `logger.child({ component })`.
 */
export function createLogger(options: { level: string; format: "json" | "pretty" }): Logger {
  const base = { level: options.level, redact: { paths: REDACT, censor: "[redacted]" } };
  if (options.format === "pretty") {
    return pino({ ...base, transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } } });
  }
  return pino(base);
}
