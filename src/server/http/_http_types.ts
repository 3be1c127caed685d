/**
 * The shapes the HTTP server and its handlers share, and the server's own
 * answers.
 *
 * @module
 */

import type { HeadLimits } from "./_http_parse.ts";
import type { HttpResponse } from "./_http_write.ts";

/** A request as the server read it. */
export interface HttpRequest {
  /** As sent: case-sensitive, not normalised. */
  readonly method: string;
  /** The raw request-target: path and query, neither decoded nor normalised. */
  readonly target: string;
  /** The raw path: the target before any `?` (`..`, `//`, `%2F` kept). */
  readonly path: string;
  /** The raw query after `?`, or `""`. */
  readonly query: string;
  readonly version: "1.0" | "1.1";
  /** Lower-case names; repeated fields joined with `", "`. */
  readonly headers: ReadonlyMap<string, string>;
  /**
   * The body, read whole (at most `maxBodyBytes`); `undefined` without
   * `Content-Length` (a chunked body is never read: see `chunked`).
   */
  readonly body: Uint8Array<ArrayBuffer> | undefined;
  /** A `Transfer-Encoding: chunked` body was sent; it is left unread. */
  readonly chunked: boolean;
  readonly peer: Deno.NetAddr;
}

/** Answers one request. Throwing answers 500. */
export type HttpHandler = (
  request: HttpRequest,
) => HttpResponse | Promise<HttpResponse>;

/** Timeouts and limits of a connection. */
export interface ConnectionLimits extends HeadLimits {
  /** From the first byte of a request to the end of its head. */
  readonly headTimeoutMs: number;
  /** From the end of the head to the end of the body. */
  readonly bodyTimeoutMs: number;
  /** With no request under way (after accept or after a response). */
  readonly idleTimeoutMs: number;
  /** For each write of up to 64 KiB; a reader that stalls is dropped. */
  readonly writeTimeoutMs: number;
  /** How long unread input is drained after a final answer. */
  readonly lingerMs: number;
}

/** Log lines, as a LogTape logger takes them. */
export interface HttpLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A clock the server advances on each reaper tick (`performance.now()`). */
export interface CoarseClock {
  nowMs: number;
}

/** What every answer carries, the server's own ones included. */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["content-security-policy", "default-src 'self'"],
  ["x-content-type-options", "nosniff"],
];

/** The server's own answers (spec: http-api.md §5). */
export const ANSWERS = {
  badRequest: json(400, "bad request"),
  tooLarge: json(413, "body too large"),
  timeout: json(408, "request timeout"),
  internal: json(500, "internal error"),
  busy: json(503, "too many connections"),
} as const;

function json(status: number, error: string): HttpResponse {
  return {
    status,
    headers: [["content-type", "application/json"], ...SECURITY_HEADERS],
    body: `{"error":"${error}"}`,
  };
}
