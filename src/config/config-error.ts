/** A configuration mistake: reported as one line, exit code 1, no stack trace. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
