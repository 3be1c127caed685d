/**
 * The auth file: `[token.<name>]` tables of secret and namespace (spec:
 * configuration.md §4, protocol.md §9).
 *
 * @module
 */
import { decodeToml, isTable, parseToml } from "./_toml.ts";
import { ConfigError } from "./config_error.ts";
import { fsReason } from "../errors.ts";

/** One token: what a client sends in `AUTH`, and what it may then touch. */
export interface Token {
  readonly name: string;
  /** Sent by the client in `AUTH`; never logged. */
  readonly secret: string;
  /** An identifier prefix, or `*` for everything. */
  readonly namespace: string;
}

/** The tokens of an auth file, and the warnings the caller should log. */
export interface AuthFile {
  readonly tokens: readonly Token[];
  readonly warnings: readonly string[];
}

/**
 * An auth file that stops the daemon at startup; `message` is the spec's
 * `<message>` text, printed as `error: <message>` (configuration.md §4).
 */
export class AuthFileError extends Error {
  override name = "AuthFileError";
}

/** The warning for a file without tokens (spec: configuration.md §4). */
export const NO_TOKENS_WARNING =
  "auth file: no tokens defined; every AUTH will fail";

/**
 * Reads and validates the auth file at `path`. Warnings (no tokens; the file
 * readable by group or others) are returned for the caller to log.
 *
 * @throws {AuthFileError} with the spec's message (configuration.md §4).
 */
export async function loadAuthFile(path: string): Promise<AuthFile> {
  let bytes: Uint8Array;
  let mode: number | null;
  try {
    bytes = await Deno.readFile(path);
    mode = (await Deno.stat(path)).mode;
  } catch (error) {
    throw new AuthFileError(
      `auth file: cannot read ${path}: ${fsReason(error)}`,
      { cause: error },
    );
  }
  let text: string;
  try {
    text = decodeToml(bytes, "auth file");
  } catch (error) {
    throw asAuthFileError(error);
  }
  const { tokens, warnings } = parseAuthFile(text);
  const readable = mode !== null && (mode & 0o044) !== 0;
  return {
    tokens,
    warnings: readable
      ? [
        `auth file: ${path} is readable by other users; it should be mode 0600`,
        ...warnings,
      ]
      : warnings,
  };
}

/**
 * Parses and validates an auth file's text (everything but reading it and
 * checking its mode).
 *
 * @throws {AuthFileError} with the spec's message (configuration.md §4).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAuthFile } from "./auth_file.ts";
 *
 * const file = parseAuthFile('[token.ops]\nsecret = "s 1"\nnamespace = "*"\n');
 * assert.deepEqual(file.tokens, [{ name: "ops", secret: "s 1", namespace: "*" }]);
 * assert.deepEqual(file.warnings, []);
 * assert.throws(() => parseAuthFile('[token.ops]\nsecret = ""\n'), {
 *   message: "auth file: [token.ops] secret is missing or empty",
 * });
 * ```
 */
export function parseAuthFile(text: string): AuthFile {
  let document: Record<string, unknown>;
  try {
    document = parseToml(text, "auth file");
  } catch (error) {
    throw asAuthFileError(error);
  }
  const tokens: Token[] = [];
  for (const [key, value] of Object.entries(document)) {
    if (key !== "token" || !isTable(value)) unexpected(key);
    for (const [name, table] of Object.entries(value)) {
      if (name === "") unexpected(name);
      if (!isTable(table)) unexpected(`token.${name}`);
      const token = readToken(name, table);
      const twin = tokens.find((other) => other.secret === token.secret);
      if (twin !== undefined) {
        throw new AuthFileError(
          `auth file: [token.${twin.name}] and [token.${name}] share the same secret`,
        );
      }
      tokens.push(token);
    }
  }
  return { tokens, warnings: tokens.length === 0 ? [NO_TOKENS_WARNING] : [] };
}

function readToken(name: string, table: Record<string, unknown>): Token {
  for (const key of Object.keys(table)) {
    if (key !== "secret" && key !== "namespace") {
      throw new AuthFileError(
        `auth file: unknown key "${key}" in [token.${name}]`,
      );
    }
  }
  const { secret, namespace } = table;
  if (typeof secret !== "string" || secret === "") {
    throw new AuthFileError(
      `auth file: [token.${name}] secret is missing or empty`,
    );
  }
  if (typeof namespace !== "string" || namespace === "") {
    throw new AuthFileError(
      `auth file: [token.${name}] namespace is missing or empty`,
    );
  }
  return { name, secret, namespace };
}

function unexpected(name: string): never {
  throw new AuthFileError(`auth file: unexpected entry "${name}"`);
}

/** Re-labels the shared TOML helpers' error as an auth file error. */
function asAuthFileError(error: unknown): unknown {
  return error instanceof ConfigError
    ? new AuthFileError(error.message, { cause: error.cause })
    : error;
}
