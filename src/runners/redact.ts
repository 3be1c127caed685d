/** Characters that end a URL authority inside free text. */
const AUTHORITY_END = /[/?#\s]/;

/**
 * Removes the userinfo of every URL or DSN in a text: everything from `://`
 * up to and including the last `@` of the authority becomes `://`, so the
 * text can be logged (spec: runners.md §9). The authority ends at the next
 * `/`, `?`, `#` or whitespace; text without `://` is returned unchanged.
 *
 * @example Credentials vanish, the rest stays
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactUrl } from "./redact.ts";
 *
 * assert.equal(
 *   redactUrl("amqp://user:pass@broker:5672/"),
 *   "amqp://broker:5672/",
 * );
 * assert.equal(
 *   redactUrl('Cannot reach "redis://:p@ss@cache:6379/2": refused'),
 *   'Cannot reach "redis://cache:6379/2": refused',
 * );
 * assert.equal(redactUrl("http://example.org/a@b"), "http://example.org/a@b");
 * ```
 */
export function redactUrl(text: string): string {
  let result = "";
  let rest = text;
  for (;;) {
    const start = rest.indexOf("://");
    if (start < 0) return result + rest;
    const authorityStart = start + 3;
    const after = rest.slice(authorityStart);
    const end = after.search(AUTHORITY_END);
    const authority = end < 0 ? after : after.slice(0, end);
    const at = authority.lastIndexOf("@");
    result += rest.slice(0, authorityStart);
    rest = at < 0 ? after : after.slice(at + 1);
  }
}
