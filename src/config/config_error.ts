/**
 * A configuration that stops the daemon at startup; `message` is the spec's
 * `<message>` text, printed as `error: <message>` (configuration.md §3).
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}
