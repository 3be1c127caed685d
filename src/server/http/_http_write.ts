/**
 * Serialises responses: the head, a `Content-Length` body when the length
 * is known or found out within the first {@link PREREAD_BYTES}, else a
 * chunked (HTTP/1.1) or close-delimited (HTTP/1.0) stream, written a part
 * at a time so that a slow reader holds back the source (RFC 9112 §6, §7).
 *
 * @module
 */

/** A response as handlers return it. */
export interface HttpResponse {
  readonly status: number;
  /** Pairs (or a record) of names and values; framing fields are ignored. */
  readonly headers?:
    | Iterable<readonly [string, string]>
    | Readonly<Record<string, string>>;
  /** Strings are sent as UTF-8; streams with back-pressure. */
  readonly body?: string | Uint8Array | ReadableStream<Uint8Array> | null;
}

/** Where response bytes go: resolves once the bytes are written. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
}

/** How the response is sent. */
export interface WriteContext {
  readonly version: "1.0" | "1.1";
  /** A HEAD request: the head only. */
  readonly headOnly: boolean;
  /** Whether the connection may stay open after this response. */
  readonly keepAlive: boolean;
}

/** A stream that failed after its head was sent: the connection must end. */
export class BodyError extends Error {
  override name = "BodyError";
}

/** Stream bytes read ahead to decide between `Content-Length` and chunks. */
export const PREREAD_BYTES = 64 * 1024;
/** Stream chunks are gathered up to this many bytes per write. */
const WRITE_BYTES = 32 * 1024;
const ENCODER = new TextEncoder();
// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// deno-lint-ignore no-control-regex
const UNSAFE_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Fields the server writes itself. */
const FRAMING = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
]);
const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

let dateSecond = -1;
let dateText = "";

/** The `Date` value, recomputed at most once a second. */
function httpDate(): string {
  const nowMs = Date.now();
  const second = Math.floor(nowMs / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/**
 * Builds a response head: status line, the handler's fields (framing
 * fields dropped, names and values checked), `date`, the framing and the
 * connection option.
 *
 * @throws {TypeError} on a field that would break the head
 */
export function encodeHead(
  response: HttpResponse,
  framing: string,
  context: WriteContext,
): string {
  const { status } = response;
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new TypeError(`Cannot send status ${status}`);
  }
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n`;
  let hasDate = false;
  for (const [name, value] of fieldsOf(response.headers)) {
    const key = name.toLowerCase();
    if (FRAMING.has(key)) continue;
    if (!TOKEN.test(name) || UNSAFE_VALUE.test(value)) {
      throw new TypeError(`Cannot send header field "${name}"`);
    }
    if (key === "date") hasDate = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!hasDate) head += `date: ${httpDate()}\r\n`;
  head += framing;
  if (!context.keepAlive) head += "connection: close\r\n";
  else if (context.version === "1.0") head += "connection: keep-alive\r\n";
  return head + "\r\n";
}

function fieldsOf(
  headers: HttpResponse["headers"],
): Iterable<readonly [string, string]> {
  if (headers === undefined) return [];
  if (Symbol.iterator in headers) {
    return headers as Iterable<readonly [string, string]>;
  }
  return Object.entries(headers);
}

/** Whether a response to this status carries no body (RFC 9110 §6.4.1). */
function isBodiless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/**
 * Writes `response` to `sink`. Resolves to whether the connection may stay
 * open: a close-delimited stream ends it.
 *
 * @throws {BodyError} when a stream fails after the head was written
 * @throws {TypeError} before anything is written, for an invalid response
 */
export async function writeResponse(
  sink: ByteSink,
  response: HttpResponse,
  context: WriteContext,
): Promise<boolean> {
  const body = response.body;
  if (body instanceof ReadableStream) {
    if (!isBodiless(response.status) && !context.headOnly) {
      return await writeStream(sink, response, body, context);
    }
    await body.cancel().catch(() => {});
  }
  const whole = encodeResponse(response, context);
  if (whole.length <= PREREAD_BYTES) {
    await sink.write(whole);
  } else {
    // 64 KiB per write at most: each write has to meet the write deadline
    for (let at = 0; at < whole.length; at += PREREAD_BYTES) {
      await sink.write(whole.subarray(at, at + PREREAD_BYTES));
    }
  }
  return context.keepAlive;
}

/**
 * Encodes a response with `Content-Length` (a stream body is left out, as
 * for HEAD): the head and the body in one buffer.
 *
 * @throws {TypeError} for an invalid status or header field
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeResponse } from "./_http_write.ts";
 *
 * const bytes = encodeResponse({
 *   status: 404,
 *   headers: { "content-type": "application/json", date: "-" },
 *   body: '{"error":"not found"}',
 * }, { version: "1.1", headOnly: false, keepAlive: true });
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n" +
 *     'date: -\r\ncontent-length: 21\r\n\r\n{"error":"not found"}',
 * );
 * ```
 */
export function encodeResponse(
  response: HttpResponse,
  context: WriteContext,
): Uint8Array<ArrayBuffer> {
  const body = response.body;
  if (isBodiless(response.status) || body instanceof ReadableStream) {
    return encodeAscii(encodeHead(response, "", context));
  }
  const text = body ?? "";
  if (typeof text === "string" && !NON_ASCII.test(text)) {
    const framing = `content-length: ${text.length}\r\n`;
    const head = encodeHead(response, framing, context);
    return encodeAscii(context.headOnly ? head : head + text);
  }
  const bytes = typeof text === "string" ? ENCODER.encode(text) : text;
  const framing = `content-length: ${bytes.length}\r\n`;
  const head = encodeAscii(encodeHead(response, framing, context));
  if (context.headOnly) return head;
  return joinBytes([head, bytes], head.length + bytes.length);
}

/** Encodes an ASCII string: cheaper than `encode`, which is an op call. */
function encodeAscii(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(text.length);
  ENCODER.encodeInto(text, bytes);
  return bytes;
}

/**
 * Sends a stream: read ahead up to {@link PREREAD_BYTES}; if it ended, one
 * `Content-Length` write, else chunks (or, for HTTP/1.0, raw bytes and a
 * close). The source is cancelled if the client goes away.
 */
async function writeStream(
  sink: ByteSink,
  response: HttpResponse,
  body: ReadableStream<Uint8Array>,
  context: WriteContext,
): Promise<boolean> {
  const reader = body.getReader();
  let done = false;
  try {
    const parts: Uint8Array[] = [];
    let length = 0;
    while (length < PREREAD_BYTES) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        break;
      }
      const part = toBytes(next.value);
      parts.push(part);
      length += part.length;
    }
    if (done) {
      const whole = { ...response, body: joinBytes(parts, length) };
      await sink.write(encodeResponse(whole, context));
      return context.keepAlive;
    }
    const chunked = context.version === "1.1";
    const keepAlive = chunked && context.keepAlive;
    const framing = chunked ? "transfer-encoding: chunked\r\n" : "";
    const head = encodeHead(response, framing, { ...context, keepAlive });
    await sink.write(encodeAscii(head));
    await pump(sink, reader, parts, length, chunked);
    done = true;
    return keepAlive;
  } catch (error) {
    throw error instanceof BodyError || error instanceof TypeError
      ? error
      : new BodyError(`Cannot stream the response: ${error}`, { cause: error });
  } finally {
    if (!done) await reader.cancel().catch(() => {});
  }
}

/** Writes the rest of a stream, gathering chunks up to `WRITE_BYTES`. */
async function pump(
  sink: ByteSink,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  first: Uint8Array[],
  firstLength: number,
  chunked: boolean,
): Promise<void> {
  let parts = first;
  let length = firstLength;
  for (;;) {
    const next = await reader.read();
    if (!next.done) {
      const part = toBytes(next.value);
      parts.push(part);
      length += part.length;
      if (length < WRITE_BYTES) continue;
    }
    if (length > 0) await sink.write(frameChunk(parts, length, chunked));
    parts = [];
    length = 0;
    if (next.done) break;
  }
  if (chunked) await sink.write(LAST_CHUNK);
}

const CRLF = ENCODER.encode("\r\n");
const LAST_CHUNK = ENCODER.encode("0\r\n\r\n");

function frameChunk(
  parts: Uint8Array[],
  length: number,
  chunked: boolean,
): Uint8Array {
  if (!chunked) return joinBytes(parts, length);
  const prefix = encodeAscii(`${length.toString(16)}\r\n`);
  return joinBytes([prefix, ...parts, CRLF], prefix.length + length + 2);
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return ENCODER.encode(value);
  throw new TypeError("Cannot send a stream chunk that is not a Uint8Array");
}

function joinBytes(
  parts: readonly Uint8Array[],
  length: number,
): Uint8Array<ArrayBuffer> {
  const only = parts[0];
  if (parts.length === 1 && only!.buffer instanceof ArrayBuffer) {
    return only as Uint8Array<ArrayBuffer>;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
