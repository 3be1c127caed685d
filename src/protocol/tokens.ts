const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/**
 * Every control character but TAB (protocol.md §3 lists 0x00–0x08,
 * 0x0B–0x1F and 0x7F: LF never reaches a token there, as it ends the line;
 * values that come another way, such as HTTP bodies and paths, must not
 * hold one either, or they would break protocol answers and logfile lines).
 */
// deno-lint-ignore no-control-regex
const FORBIDDEN = /[\x00-\x08\x0a-\x1f\x7f]/;
const NEEDS_QUOTES = /[ \t"\\]/;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** What {@link tokenize} read: the complete tokens, and why it stopped early. */
export interface Tokens {
  readonly tokens: string[];
  /** Set when the line is malformed; `tokens` holds those read before it. */
  readonly error?: string;
}

/**
 * Splits a line into tokens: spaces separate, `"` quotes, a backslash inside
 * quotes escapes the next character (spec: protocol.md §3).
 *
 * @example A quote inside a bare token opens a new token
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenize } from "./tokens.ts";
 *
 * assert.deepEqual(tokenize('a"b c"d').tokens, ["a", "b c", "d"]);
 * assert.deepEqual(tokenize('x "say \\"hi\\""').tokens, ["x", 'say "hi"']);
 * ```
 */
export function tokenize(line: string): Tokens {
  if (!line.includes('"')) {
    let tokens = line.split(" ");
    // Runs of spaces leave empty pieces; most lines have none.
    if (tokens.includes("")) tokens = tokens.filter((token) => token !== "");
    if (!FORBIDDEN.test(line)) return { tokens };
    const bad = tokens.findIndex((token) => FORBIDDEN.test(token));
    return {
      tokens: tokens.slice(0, bad),
      error: "control character in token",
    };
  }
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    const char = line[i];
    if (char === " ") {
      i++;
    } else if (char === '"') {
      let token = "";
      let closed = false;
      for (i++; i < line.length; i++) {
        const c = line[i];
        if (c === "\\" && i + 1 < line.length) token += line[++i];
        else if (c === '"') {
          closed = true;
          i++;
          break;
        } else token += c;
      }
      if (!closed) return { tokens, error: "unclosed quote" };
      if (FORBIDDEN.test(token)) {
        return { tokens, error: "control character in token" };
      }
      tokens.push(token);
    } else {
      const start = i;
      while (i < line.length && line[i] !== " " && line[i] !== '"') i++;
      const token = line.slice(start, i);
      if (FORBIDDEN.test(token)) {
        return { tokens, error: "control character in token" };
      }
      tokens.push(token);
    }
  }
  return { tokens };
}

/**
 * Reads the first token of a line given as bytes that are not known to be
 * valid UTF-8 or complete, returning it only when it is readable (spec:
 * protocol.md §2–§3).
 *
 * @param needSpace require a space right after the token (for a line cut
 *   at the size limit, where the token may continue beyond the cut)
 */
export function readRequestId(
  bytes: Uint8Array,
  needSpace: boolean,
): string | undefined {
  let i = 0;
  while (i < bytes.length && bytes[i] === SPACE) i++;
  const start = i;
  let end: number;
  if (bytes[i] === QUOTE) {
    for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) {
      if (bytes[i] === BACKSLASH) i++;
    }
    if (i >= bytes.length) return undefined;
    end = ++i;
  } else {
    while (i < bytes.length && bytes[i] !== SPACE && bytes[i] !== QUOTE) i++;
    end = i;
  }
  if (needSpace && bytes[end] !== SPACE) return undefined;
  let text: string;
  try {
    text = UTF8.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
  const first = tokenize(text).tokens[0];
  return first ? first : undefined;
}

/**
 * Tells whether text holds a character no token may contain (spec:
 * protocol.md §3): a control character other than TAB, LF included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasForbiddenCharacter } from "./tokens.ts";
 *
 * assert.equal(hasForbiddenCharacter("a\tb"), false);
 * assert.equal(hasForbiddenCharacter("a\nb"), true);
 * assert.equal(hasForbiddenCharacter("a\x7fb"), true);
 * ```
 */
export function hasForbiddenCharacter(text: string): boolean {
  return FORBIDDEN.test(text);
}

/** Tells whether a line holds nothing but spaces and tabs. */
export function isBlank(line: string): boolean {
  return /^[ \t]*$/.test(line);
}

/**
 * Writes a token so that {@link tokenize} reads it back: bare when it can
 * be, else quoted with `\` and `"` escaped (spec: persistence.md §2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoteToken } from "./tokens.ts";
 *
 * assert.equal(quoteToken("backup."), "backup.");
 * assert.equal(quoteToken(""), '""');
 * assert.equal(quoteToken('say "hi"'), '"say \\"hi\\""');
 * ```
 */
export function quoteToken(token: string): string {
  if (token !== "" && !NEEDS_QUOTES.test(token)) return token;
  return `"${token.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}
