/**
 * Reading what an API request carries: its JSON body, its query and the id
 * in its path, each with the spec's error message (http-api.md §1, §4, §5).
 *
 * @module
 */
import { hasForbiddenCharacter } from "../../protocol/tokens.ts";
import type { HttpRequest } from "./_http_types.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** What went wrong, as the `error` message of a 400. */
export class BadInput extends Error {
  override name = "BadInput";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The body of a PUT as a JSON object whose strings hold no control
 * characters but TAB, and no lone surrogate (`"\ud800"` has no UTF-8 form:
 * the logfile would store U+FFFD instead).
 *
 * @throws {BadInput} `missing content-length` or `invalid json`
 */
export function readBody(request: HttpRequest): Record<string, unknown> {
  if (request.body === undefined || request.chunked) {
    throw new BadInput(400, "missing content-length");
  }
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(request.body));
  } catch {
    throw invalidJson();
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidJson();
  }
  if (holdsBadText(value)) throw invalidJson();
  return value as Record<string, unknown>;
}

/** A string field of a body; `undefined` when absent. */
export function stringField(
  body: Record<string, unknown>,
  name: string,
): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalidJson();
  return value;
}

/**
 * The query's parameters, percent-decoded (no `+` for space); a parameter
 * given twice, or a malformed encoding, is `invalid query`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readQuery } from "./_request.ts";
 *
 * assert.deepEqual(readQuery("prefix=a%2Fb&limit=2"), new Map([["prefix", "a/b"], ["limit", "2"]]));
 * ```
 */
export function readQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  if (query === "") return params;
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decode(eq < 0 ? pair : pair.slice(0, eq), "invalid query");
    const value = decode(eq < 0 ? "" : pair.slice(eq + 1), "invalid query");
    if (params.has(name)) throw new BadInput(400, "invalid query");
    if (hasForbiddenCharacter(value)) throw new BadInput(400, "invalid query");
    params.set(name, value);
  }
  return params;
}

/**
 * The identifier after `/jobs/` or `/rules/`: the rest of the raw path,
 * percent-decoded, `/` and `.` kept; empty is `missing resource id`, a
 * control character `invalid json` (the spec's word for a bad value).
 */
export function readId(path: string, prefix: string): string {
  const id = decode(path.slice(prefix.length), "bad request");
  if (id === "") throw new BadInput(400, "missing resource id");
  if (hasForbiddenCharacter(id)) throw invalidJson();
  return id;
}

/** A limit from the query: digits, 1–1000. */
export function readLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,4}$/.test(text)) throw new BadInput(400, "invalid query");
  const limit = Number(text);
  if (limit < 1 || limit > 1000) throw new BadInput(400, "invalid query");
  return limit;
}

/** The error of a malformed body, field or value. */
export function invalidJson(): BadInput {
  return new BadInput(400, "invalid json");
}

function decode(text: string, problem: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new BadInput(400, problem);
  }
}

/**
 * Looks at every key and string of a parsed body. Iterative: a body of up
 * to 1 MiB may nest half a million arrays, which recursion could not walk.
 */
function holdsBadText(body: unknown): boolean {
  const pending = [body];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === "string") {
      if (isBadText(value)) return true;
    } else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (isBadText(key)) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

function isBadText(text: string): boolean {
  return hasForbiddenCharacter(text) || !text.isWellFormed();
}
