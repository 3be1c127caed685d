/**
 * A small HTTP/1.1 client with keep-alive for the http runner's plain
 * `http://` URLs. `fetch` costs about three times as much per request
 * (measured: ~15k vs ~45k requests/s on 2 cores), which capped how many
 * webhooks a second the daemon could fire.
 *
 * @module
 */

import { closeQuietly, writeAll } from "../io.ts";

/** Where a plain `http://` URL points, as the client needs it. */
export interface Http1Target {
  /** For `Deno.connect`: an IPv6 literal without its brackets. */
  readonly hostname: string;
  readonly port: number;
  /** The `Host` header: host and any non-default port. */
  readonly host: string;
  /** The request target: path and query. */
  readonly path: string;
}

/** Bytes of a response head (status line and headers) at most. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Idle connections are reused only this soon, before servers drop them. */
const IDLE_MS = 4000;
/** Idle connections kept per server at most. */
const MAX_IDLE = 64;
/** A response's read buffer, to begin with; it grows for longer heads. */
const READ_BUFFER_BYTES = 16 * 1024;
/** Parsed URLs remembered at most (one per http rule URL in practice). */
const MAX_TARGETS = 1024;
const LATIN1 = new TextDecoder("latin1");
const CR = 0x0d;
const LF = 0x0a;

/**
 * Reads a URL this client serves: `http://` without userinfo. Anything else
 * (https, credentials, an unparsable URL) gives `undefined` and is left to
 * `fetch`, which also reports its errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { http1Target } from "./_http1.ts";
 *
 * assert.deepEqual(http1Target("http://[::1]:8080/hook?a=1"), {
 *   hostname: "::1",
 *   port: 8080,
 *   host: "[::1]:8080",
 *   path: "/hook?a=1",
 * });
 * assert.equal(http1Target("https://example.org/"), undefined);
 * assert.equal(http1Target("http://user:pw@example.org/"), undefined);
 * ```
 */
export function http1Target(url: string): Http1Target | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (
    parsed.protocol !== "http:" || parsed.username !== "" ||
    parsed.password !== "" || parsed.hostname === ""
  ) {
    return undefined;
  }
  const { hostname } = parsed;
  return {
    hostname: hostname.startsWith("[") ? hostname.slice(1, -1) : hostname,
    port: parsed.port === "" ? 80 : Number(parsed.port),
    host: parsed.host,
    path: `${parsed.pathname}${parsed.search}`,
  };
}

/** A connection the server may have closed while it sat idle. */
class StaleConnection extends Error {
  override name = "StaleConnection";
}

interface Idle {
  readonly conn: Deno.TcpConn;
  readonly sinceMs: number;
}

/**
 * Sends requests over kept-alive connections, one request per connection at
 * a time. A request that fails on a reused connection before any byte of
 * the answer came back is sent once more on a new connection (the server
 * closed it while idle).
 */
export class Http1Client {
  readonly #idle = new Map<string, Idle[]>();
  /** Read buffers of finished exchanges, for the next ones. */
  readonly #buffers: Uint8Array<ArrayBuffer>[] = [];
  readonly #targets = new Map<string, Http1Target | undefined>();

  /** {@link http1Target}, remembered per URL. */
  target(url: string): Http1Target | undefined {
    if (this.#targets.has(url)) return this.#targets.get(url);
    if (this.#targets.size >= MAX_TARGETS) this.#targets.clear();
    const target = http1Target(url);
    this.#targets.set(url, target);
    return target;
  }

  /**
   * Sends `request` (head and body) and reads the whole answer, discarding
   * its body; resolves to the status code. Rejects on connect, I/O and
   * protocol errors, and with `signal.reason` once `signal` aborts.
   */
  async send(
    target: Http1Target,
    request: Uint8Array,
    signal: AbortSignal,
  ): Promise<number> {
    const key = `${target.hostname} ${target.port}`;
    for (let idle = this.#checkout(key); idle;) {
      try {
        return await this.#exchange(key, idle, request, signal, true);
      } catch (error) {
        if (!(error instanceof StaleConnection)) throw error;
        idle = this.#checkout(key);
      }
    }
    const conn = await connect(target, signal);
    return await this.#exchange(key, conn, request, signal, false);
  }

  /** Closes the idle connections. */
  close(): void {
    for (const list of this.#idle.values()) {
      for (const { conn } of list) closeQuietly(conn);
    }
    this.#idle.clear();
  }

  #checkout(key: string): Deno.TcpConn | undefined {
    const list = this.#idle.get(key);
    const nowMs = performance.now();
    while (list !== undefined && list.length > 0) {
      const { conn, sinceMs } = list.pop()!;
      if (nowMs - sinceMs < IDLE_MS) return conn;
      closeQuietly(conn);
    }
    return undefined;
  }

  #checkin(key: string, conn: Deno.TcpConn): void {
    let list = this.#idle.get(key);
    if (list === undefined) this.#idle.set(key, list = []);
    if (list.length >= MAX_IDLE) closeQuietly(list.shift()!.conn);
    list.push({ conn, sinceMs: performance.now() });
  }

  async #exchange(
    key: string,
    conn: Deno.TcpConn,
    request: Uint8Array,
    signal: AbortSignal,
    reused: boolean,
  ): Promise<number> {
    // A fresh 16 KiB buffer per request was a third of the runner's cost
    // in the firing profile (allocation and the collections it caused).
    const reader = new Reader(conn, this.#buffers.pop());
    const onAbort = () => closeQuietly(conn);
    signal.addEventListener("abort", onAbort);
    try {
      signal.throwIfAborted();
      await writeAll(conn, request);
      const { status, keepAlive } = await readResponse(reader);
      if (keepAlive && !signal.aborted) this.#checkin(key, conn);
      else closeQuietly(conn);
      return status;
    } catch (error) {
      closeQuietly(conn);
      if (signal.aborted) throw signal.reason;
      if (reused && reader.received === 0) {
        throw new StaleConnection("closed while idle", { cause: error });
      }
      throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
      // No read is pending any more: each was awaited, or threw.
      const { buffer } = reader;
      if (
        buffer.length === READ_BUFFER_BYTES && this.#buffers.length < MAX_IDLE
      ) {
        this.#buffers.push(buffer);
      }
    }
  }
}

/** Connects, giving up (and closing a late connection) once `signal` aborts. */
async function connect(
  target: Http1Target,
  signal: AbortSignal,
): Promise<Deno.TcpConn> {
  signal.throwIfAborted();
  const connecting = Deno.connect({
    hostname: target.hostname,
    port: target.port,
  });
  const aborted = Promise.withResolvers<never>();
  const onAbort = () => aborted.reject(signal.reason);
  signal.addEventListener("abort", onAbort);
  try {
    const conn = await Promise.race([connecting, aborted.promise]);
    conn.setNoDelay(true);
    return conn;
  } catch (error) {
    connecting.then(closeQuietly, () => {});
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Reads one response to the end: informational (1xx) answers are skipped,
 * the body is framed by `Transfer-Encoding: chunked`, `Content-Length` or
 * the end of the connection, and thrown away.
 */
async function readResponse(
  reader: Reader,
): Promise<{ status: number; keepAlive: boolean }> {
  for (;;) {
    const head = await reader.head();
    const lines = head.split("\r\n");
    const match = /^HTTP\/1\.([01]) ([0-9]{3})(?: |$)/.exec(lines[0]!);
    if (match === null) throw new Error("malformed HTTP status line");
    const status = Number(match[2]);
    if (status >= 100 && status < 200 && status !== 101) continue;
    let chunked = false;
    let length: number | undefined;
    let close = match[1] === "0";
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Error("malformed HTTP header");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === "transfer-encoding") {
        chunked = value.split(",").at(-1)!.trim() === "chunked";
      } else if (name === "content-length") {
        if (!/^[0-9]{1,15}$/.test(value)) {
          throw new Error("malformed Content-Length");
        }
        if (length !== undefined && length !== Number(value)) {
          throw new Error("conflicting Content-Length headers");
        }
        length = Number(value);
      } else if (name === "connection") {
        close ||= value.split(",").some((token) => token.trim() === "close");
      }
    }
    if (status === 101) return { status, keepAlive: false };
    if (status === 204 || status === 304) {
      return { status, keepAlive: !close };
    }
    if (chunked) {
      await reader.skipChunked();
    } else if (length !== undefined) {
      await reader.skip(length);
    } else {
      await reader.skipToEnd();
      close = true;
    }
    return { status, keepAlive: !close };
  }
}

/** Buffered reads from a connection. */
class Reader {
  readonly #conn: Deno.Conn;
  #buffer: Uint8Array<ArrayBuffer>;
  #start = 0;
  #end = 0;
  /** Bytes read so far. */
  received = 0;

  constructor(
    conn: Deno.Conn,
    buffer = new Uint8Array(READ_BUFFER_BYTES),
  ) {
    this.#conn = conn;
    this.#buffer = buffer;
  }

  /** The buffer read into (a longer one once a head outgrew the first). */
  get buffer(): Uint8Array<ArrayBuffer> {
    return this.#buffer;
  }

  /** Reads the head up to its blank line; returns it without that line. */
  async head(): Promise<string> {
    for (let scanned = 0;;) {
      const at = this.#find(this.#start + scanned);
      if (at >= 0) {
        const text = LATIN1.decode(this.#buffer.subarray(this.#start, at));
        this.#start = at + 4;
        return text;
      }
      if (this.#end - this.#start >= MAX_HEAD_BYTES) {
        throw new Error("HTTP response head too large");
      }
      scanned = Math.max(0, this.#end - this.#start - 3);
      if (!await this.#fill()) throw new Error("connection closed early");
    }
  }

  /** Reads a CRLF-ended line (a chunk size or a trailer). */
  async line(): Promise<string> {
    for (;;) {
      const lf = this.#buffer.subarray(this.#start, this.#end).indexOf(LF);
      if (lf >= 0) {
        const end = this.#start + lf;
        const text = LATIN1.decode(this.#buffer.subarray(this.#start, end));
        this.#start = end + 1;
        return text.endsWith("\r") ? text.slice(0, -1) : text;
      }
      if (this.#end - this.#start >= MAX_HEAD_BYTES) {
        throw new Error("HTTP chunk line too long");
      }
      if (!await this.#fill()) throw new Error("connection closed early");
    }
  }

  /** Discards exactly `count` bytes. */
  async skip(count: number): Promise<void> {
    for (let left = count; left > 0;) {
      if (this.#start === this.#end && !await this.#fill()) {
        throw new Error("connection closed early");
      }
      const take = Math.min(left, this.#end - this.#start);
      this.#start += take;
      left -= take;
    }
  }

  /** Discards a chunked body and its trailers. */
  async skipChunked(): Promise<void> {
    for (;;) {
      const sizeText = (await this.line()).split(";")[0]!.trim();
      if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) {
        throw new Error("malformed HTTP chunk size");
      }
      const size = parseInt(sizeText, 16);
      if (size === 0) break;
      await this.skip(size);
      if (await this.line() !== "") throw new Error("malformed HTTP chunk");
    }
    while (await this.line() !== "") {
      // trailers are discarded
    }
  }

  /** Discards everything until the server closes. */
  async skipToEnd(): Promise<void> {
    this.#start = this.#end;
    while (await this.#fill()) this.#start = this.#end;
  }

  #find(from: number): number {
    const buffer = this.#buffer;
    for (let i = from; i + 3 < this.#end; i++) {
      if (
        buffer[i] === CR && buffer[i + 1] === LF && buffer[i + 2] === CR &&
        buffer[i + 3] === LF
      ) {
        return i;
      }
    }
    return -1;
  }

  /** Reads more bytes; `false` at the end of the stream. */
  async #fill(): Promise<boolean> {
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buffer.length) {
      const bigger = new Uint8Array(this.#buffer.length * 2);
      bigger.set(this.#buffer);
      this.#buffer = bigger;
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    this.received += n;
    return true;
  }
}
