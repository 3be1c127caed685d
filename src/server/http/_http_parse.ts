/**
 * Strict parsing of HTTP/1.x request heads (RFC 9112 §2–§7): the request
 * line, the header fields and the framing they imply. Pure: no I/O.
 *
 * @module
 */

/** The limits a request head is parsed under. */
export interface HeadLimits {
  /** Bytes of request line, header fields and the blank line at most. */
  readonly maxHeadBytes: number;
  /** Header fields at most. */
  readonly maxHeaders: number;
  /** A `Content-Length` above this is refused with 413, its body unread. */
  readonly maxBodyBytes: number;
}

/** A request head that passed every check. */
export interface RequestHead {
  readonly kind: "head";
  /** As sent: methods are case-sensitive (RFC 9110 §9.1). */
  readonly method: string;
  /** The raw request-target, neither decoded nor normalised. */
  readonly target: string;
  readonly version: "1.0" | "1.1";
  /** Lower-case names; repeated fields joined with `", "`. */
  readonly headers: Map<string, string>;
  /** The body length; `undefined` without `Content-Length`. */
  readonly contentLength: number | undefined;
  /** `Transfer-Encoding: chunked`: a body this server does not read. */
  readonly chunked: boolean;
  /** Whether the client allows the connection to stay open afterwards. */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` was sent. */
  readonly expectContinue: boolean;
}

/** Why a head was refused: 400 (malformed) or 413 (body too large). */
export interface HeadError {
  readonly kind: "error";
  readonly status: 400 | 413;
  readonly reason: string;
}

/** Where the head ends in a buffer, or why it never will. */
export type HeadEnd =
  | { readonly kind: "end"; readonly at: number }
  | { readonly kind: "more"; readonly scanned: number }
  | HeadError;

const CR = 0x0d;
const LF = 0x0a;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** origin-form (no fragment): visible ASCII without `#` (RFC 9112 §3.2.1). */
const REQUEST_LINE =
  /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\/[!-"$-~]*) HTTP\/1\.([01])$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]{0,5})?$/;
const DIGITS = /^[0-9]+$/;
const LATIN1 = new TextDecoder("latin1");

function refuse(reason: string, status: 400 | 413 = 400): HeadError {
  return { kind: "error", status, reason };
}

/**
 * Finds the end of a head in `bytes[start, end)`: the offset just past its
 * blank line. Lines must end in CRLF; a bare LF or CR is refused at once
 * rather than waited on. `scanned` resumes a previous scan (it is the
 * offset of the first line not yet complete).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findHeadEnd } from "./_http_parse.ts";
 *
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\nX");
 * assert.deepEqual(findHeadEnd(bytes, 0, bytes.length, 0), { kind: "end", at: 27 });
 * assert.equal(findHeadEnd(bytes, 0, 20, 0).kind, "more");
 * ```
 */
export function findHeadEnd(
  bytes: Uint8Array,
  start: number,
  end: number,
  scanned: number,
): HeadEnd {
  let lineStart = start + scanned;
  for (let i = lineStart; i < end; i++) {
    const byte = bytes[i];
    if (byte === CR) {
      if (i + 1 === end) break; // its LF may come with the next read
      if (bytes[i + 1] !== LF) return refuse("bare CR");
      if (i === lineStart) return { kind: "end", at: i + 2 };
      i++;
      lineStart = i + 1;
    } else if (byte === LF) {
      return refuse("bare LF");
    }
  }
  return { kind: "more", scanned: lineStart - start };
}

/**
 * Parses a complete head (`bytes` up to and including its blank line).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHead } from "./_http_parse.ts";
 *
 * const limits = { maxHeadBytes: 16384, maxHeaders: 100, maxBodyBytes: 1048576 };
 * const head = parseHead(
 *   new TextEncoder().encode("PUT /jobs/a%2Fb HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n"),
 *   limits,
 * );
 * assert.equal(head.kind, "head");
 * if (head.kind === "head") {
 *   assert.equal(head.target, "/jobs/a%2Fb");
 *   assert.equal(head.contentLength, 2);
 * }
 * ```
 */
export function parseHead(
  bytes: Uint8Array,
  limits: HeadLimits,
): RequestHead | HeadError {
  const text = bytes.length < 2048
    ? String.fromCharCode.apply(null, bytes as unknown as number[])
    : LATIN1.decode(bytes);
  const lines = text.split("\r\n");
  const match = REQUEST_LINE.exec(lines[0]!);
  if (match === null) return refuse("malformed request line");
  const headers = new Map<string, string>();
  const last = lines.length - 2; // the head ends with CRLF CRLF: two "" lines
  if (last - 1 > limits.maxHeaders) return refuse("too many header fields");
  let hosts = 0;
  let lengths = 0;
  for (let i = 1; i < last; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) return refuse("malformed header field");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return refuse("malformed header field name");
    const value = trimField(line.slice(colon + 1));
    if (!FIELD_VALUE.test(value)) return refuse("malformed header field value");
    const key = name.toLowerCase();
    if (key === "host") hosts++;
    else if (key === "content-length") lengths++;
    const previous = headers.get(key);
    headers.set(key, previous === undefined ? value : `${previous}, ${value}`);
  }
  const version = match[3] === "0" ? "1.0" : "1.1";
  if (hosts > 1 || (hosts === 0 && version === "1.1")) {
    return refuse("missing or repeated Host");
  }
  if (hosts === 1 && !HOST.test(headers.get("host")!)) {
    return refuse("malformed Host");
  }
  if (lengths > 1) return refuse("repeated Content-Length");
  return frame(match[1]!, match[2]!, version, headers, limits);
}

/** Reads the framing and connection fields (RFC 9112 §6, §9.3). */
function frame(
  method: string,
  target: string,
  version: "1.0" | "1.1",
  headers: Map<string, string>,
  limits: HeadLimits,
): RequestHead | HeadError {
  const lengthText = headers.get("content-length");
  const coding = headers.get("transfer-encoding");
  let contentLength: number | undefined;
  if (lengthText !== undefined) {
    if (!DIGITS.test(lengthText)) return refuse("malformed Content-Length");
    contentLength = lengthText.length > 15 ? Infinity : Number(lengthText);
  }
  let chunked = false;
  if (coding !== undefined) {
    // both fields: a smuggling attempt or a broken client (RFC 9112 §6.3)
    if (contentLength !== undefined) {
      return refuse("Content-Length with Transfer-Encoding");
    }
    if (version === "1.0") return refuse("Transfer-Encoding in HTTP/1.0");
    if (coding.split(",").at(-1)!.trim().toLowerCase() !== "chunked") {
      return refuse("unframed Transfer-Encoding");
    }
    chunked = true;
  }
  if (contentLength !== undefined && contentLength > limits.maxBodyBytes) {
    return refuse("body too large", 413);
  }
  const options = connectionOptions(headers.get("connection"));
  const expect = headers.get("expect");
  return {
    kind: "head",
    method,
    target,
    version,
    headers,
    contentLength,
    chunked,
    keepAlive: version === "1.1"
      ? !options.close
      : options.keepAlive && !options.close,
    expectContinue: version === "1.1" && expect !== undefined &&
      expect.toLowerCase() === "100-continue",
  };
}

function connectionOptions(
  value: string | undefined,
): { close: boolean; keepAlive: boolean } {
  if (value === undefined) return { close: false, keepAlive: false };
  let close = false;
  let keepAlive = false;
  for (const option of value.toLowerCase().split(",")) {
    const token = option.trim();
    if (token === "close") close = true;
    else if (token === "keep-alive") keepAlive = true;
  }
  return { close, keepAlive };
}

/** Strips SP and HTAB (only those: RFC 9110 §5.5) from both ends. */
function trimField(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isBlank(value.charCodeAt(start))) start++;
  while (end > start && isBlank(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
