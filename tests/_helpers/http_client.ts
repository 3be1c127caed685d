/**
 * A raw HTTP/1.1 test client: sends exact bytes (so paths reach the server
 * neither normalised nor re-encoded, unlike `fetch`) and reads responses
 * one at a time (Content-Length, chunked or close-delimited bodies).
 *
 * @module
 */

const ENCODER = new TextEncoder();
const LATIN1 = new TextDecoder("latin1");
const UTF8 = new TextDecoder();

/** One response as read off the wire. */
export interface RawResponse {
  readonly status: number;
  /** Lower-case names; a repeated field keeps its last value. */
  readonly headers: Map<string, string>;
  /** The body decoded as UTF-8. */
  readonly body: string;
  /** The body exactly as sent. */
  readonly bytes: Uint8Array;
  /** The status line and fields as sent. */
  readonly head: string;
}

/** A connection that sends raw bytes and reads raw responses. */
export class RawClient implements Disposable {
  readonly conn: Deno.TcpConn;
  #buffer: Uint8Array = new Uint8Array(0);
  #eof = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects to `hostname` (127.0.0.1 by default), port `port`. */
  static async connect(
    port: number,
    hostname = "127.0.0.1",
  ): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname, port }));
  }

  /**
   * Writes a string (each character one byte, as latin1, so any byte can
   * be sent; use {@link utf8} for text) or bytes.
   */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? latin1(data) : data;
    for (let at = 0; at < bytes.length;) {
      at += await this.conn.write(bytes.subarray(at));
    }
  }

  /**
   * Reads one response; throws if the connection ends first. `head`: the
   * answer to a HEAD request (no body whatever its fields say).
   */
  async response(head = false): Promise<RawResponse> {
    let end: number;
    while ((end = indexOf(this.#buffer, "\r\n\r\n")) < 0) {
      if (!await this.#fill()) {
        throw new Error("connection closed before a response");
      }
    }
    const text = LATIN1.decode(this.#buffer.subarray(0, end));
    this.#buffer = this.#buffer.subarray(end + 4);
    const [statusLine, ...lines] = text.split("\r\n");
    const status = Number(statusLine!.split(" ")[1]);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.set(
        line.slice(0, colon).toLowerCase(),
        line.slice(colon + 1).trim(),
      );
    }
    const bytes = head ? new Uint8Array(0) : await this.#body(status, headers);
    return { status, headers, body: UTF8.decode(bytes), bytes, head: text };
  }

  /**
   * Reads until the server ends the connection (EOF or reset) or until
   * `timeoutMs`; `ended` tells which.
   */
  async rest(timeoutMs = 5000): Promise<{ text: string; ended: boolean }> {
    const bytes = await this.#rest(timeoutMs);
    return { text: LATIN1.decode(bytes.bytes), ended: bytes.ended };
  }

  /** Closes the connection (again is fine). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #rest(
    timeoutMs: number,
  ): Promise<{ bytes: Uint8Array; ended: boolean }> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, timeoutMs);
    try {
      while (await this.#fill()) {
        // gather
      }
    } catch {
      // reset by the server, or closed by the timer
    } finally {
      clearTimeout(timer);
    }
    const bytes = this.#buffer;
    this.#buffer = new Uint8Array(0);
    return { bytes, ended: !timedOut };
  }

  async #body(
    status: number,
    headers: Map<string, string>,
  ): Promise<Uint8Array> {
    if (status < 200 || status === 204 || status === 304) {
      return new Uint8Array(0);
    }
    const length = headers.get("content-length");
    if (length !== undefined) return await this.#take(Number(length));
    if (headers.get("transfer-encoding") === "chunked") {
      return await this.#chunks();
    }
    return (await this.#rest(5000)).bytes;
  }

  async #chunks(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      const size = parseInt(LATIN1.decode(await this.#line()), 16);
      if (size === 0) break;
      parts.push(await this.#take(size));
      await this.#take(2);
    }
    await this.#line();
    return concat(parts);
  }

  async #line(): Promise<Uint8Array> {
    let end: number;
    while ((end = indexOf(this.#buffer, "\r\n")) < 0) {
      if (!await this.#fill()) {
        throw new Error("connection closed within a chunk");
      }
    }
    const line = this.#buffer.slice(0, end);
    this.#buffer = this.#buffer.subarray(end + 2);
    return line;
  }

  async #take(count: number): Promise<Uint8Array> {
    while (this.#buffer.length < count) {
      if (!await this.#fill()) {
        throw new Error("connection closed within a body");
      }
    }
    const bytes = this.#buffer.slice(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return bytes;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(65536);
    const n = await this.conn.read(chunk);
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#buffer = concat([this.#buffer, chunk.subarray(0, n)]);
    return true;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}

function indexOf(bytes: Uint8Array, text: string): number {
  const first = text.charCodeAt(0);
  outer: for (
    let i = bytes.indexOf(first);
    i >= 0;
    i = bytes.indexOf(first, i + 1)
  ) {
    for (let j = 1; j < text.length; j++) {
      if (bytes[i + j] !== text.charCodeAt(j)) continue outer;
    }
    if (i + text.length <= bytes.length) return i;
  }
  return -1;
}

/** A GET request with a Host field. */
export function get(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
}

/** Each character as one byte (latin1): how {@link RawClient.send} sends strings. */
export function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Encodes text as UTF-8. */
export function utf8(text: string): Uint8Array {
  return ENCODER.encode(text);
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What {@link request} sends besides the method and the raw target. */
export interface RequestOptions {
  /** Extra fields, e.g. `{ authorization: "Bearer x" }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as UTF-8 with its `Content-Length`. */
  readonly body?: string;
  /** Reads the answer to a HEAD request. */
  readonly head?: boolean;
  readonly hostname?: string;
}

/**
 * One request on a fresh connection with `Connection: close`: `target` is
 * sent byte for byte (latin1), so `..`, `%2F` and `//` reach the server.
 */
export async function request(
  port: number,
  method: string,
  target: string,
  options: RequestOptions = {},
): Promise<RawResponse> {
  using client = await RawClient.connect(port, options.hostname);
  const body = options.body === undefined ? undefined : utf8(options.body);
  let head =
    `${method} ${target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    head += `${name}: ${value}\r\n`;
  }
  if (body !== undefined) head += `Content-Length: ${body.length}\r\n`;
  await client.send(head + "\r\n");
  if (body !== undefined) await client.send(body);
  return await client.response(options.head ?? method === "HEAD");
}
