/** TOML reading shared by the configuration and the auth file. */
import { parse, TomlError } from "smol-toml";
import { ConfigError } from "./config_error.ts";

/** Decodes a TOML file's bytes; TOML must be UTF-8. */
export function decodeToml(bytes: Uint8Array, prefix: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new ConfigError(`${prefix}: invalid TOML: not valid UTF-8`, {
      cause: error,
    });
  }
}

/**
 * Parses TOML with integers as bigint (so `512.0`, a float, is told apart
 * from `512`). The error detail names line and column but never quotes the
 * text, which may hold secrets.
 */
export function parseToml(
  text: string,
  prefix: string,
): Record<string, unknown> {
  try {
    return parse(text, { integersAsBigInt: true });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const detail = error.message.split("\n")[0]!
      .replace(/^Invalid TOML document: /, "");
    throw new ConfigError(
      `${prefix}: invalid TOML: line ${error.line}, column ${error.column}: ${detail}`,
      { cause: error },
    );
  }
}

/** True for a TOML table (smol-toml: a null-prototype object). */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null &&
    !Array.isArray(value) && !(value instanceof Date);
}
