/**
 * One HTTP/1.1 connection: reads requests one at a time, hands each to the
 * handler and writes its response before reading the next (pipelined
 * requests are answered in order). Deadlines are enforced from outside:
 * the server's reaper calls {@link HttpConnection.expire}, which closes the
 * socket (so the pending read or write fails) or, for a request that
 * stalls, answers 408 and drains.
 *
 * @module
 */

import {
  findHeadEnd,
  type HeadError,
  parseHead,
  type RequestHead,
} from "./_http_parse.ts";
import {
  ANSWERS,
  type CoarseClock,
  type ConnectionLimits,
  type HttpHandler,
  type HttpLog,
  type HttpRequest,
} from "./_http_types.ts";
import {
  BodyError,
  type ByteSink,
  encodeResponse,
  type HttpResponse,
  writeResponse,
} from "./_http_write.ts";
import { formatAddr } from "../../io.ts";

/** What the connection waits for; its deadline applies to it. */
export type Phase =
  | "idle"
  | "head"
  | "body"
  | "handler"
  | "write"
  | "linger"
  | "closed";

const INITIAL_BUFFER_BYTES = 2 * 1024;
/** Unread input drained at most before a lingering close gives up. */
const LINGER_BYTES = 4 * 1024 * 1024;
const ENCODER = new TextEncoder();
const CONTINUE = ENCODER.encode("HTTP/1.1 100 Continue\r\n\r\n");
const CLOSING = { version: "1.1", headOnly: false, keepAlive: false } as const;
/** Encoded responses up to this size are written at once. */
const WHOLE_WRITE_BYTES = 64 * 1024;

/** Serves one accepted connection. */
export class HttpConnection implements ByteSink {
  /** Clock time after which the reaper calls {@link expire}. */
  deadlineMs: number;
  phase: Phase = "idle";
  /** Bytes written for the response under way. */
  written = 0;
  readonly #conn: Deno.TcpConn;
  readonly #handler: HttpHandler;
  readonly #limits: ConnectionLimits;
  readonly #clock: CoarseClock;
  readonly #log: HttpLog;
  #buffer = new Uint8Array(INITIAL_BUFFER_BYTES);
  #start = 0;
  #end = 0;
  #scanned = 0;
  /** An empty line before this request's line was skipped. */
  #skipped = false;
  #closing = false;

  constructor(
    conn: Deno.TcpConn,
    handler: HttpHandler,
    context: { limits: ConnectionLimits; clock: CoarseClock; log: HttpLog },
  ) {
    this.#conn = conn;
    this.#handler = handler;
    this.#limits = context.limits;
    this.#clock = context.clock;
    this.#log = context.log;
    this.deadlineMs = context.clock.nowMs + context.limits.idleTimeoutMs;
  }

  /**
   * Serves requests until the client leaves, a limit or {@link close}.
   * One loop with synchronous steps: each `await` costs, and a request
   * that arrived whole with a synchronous handler needs only the read and
   * the write. Never throws.
   */
  async serve(): Promise<void> {
    try {
      for (;;) {
        let head = this.#takeHead();
        while (head === undefined) {
          const view = this.#prepareRead();
          if (view === undefined) return;
          if (!this.#afterRead(await this.#conn.read(view))) {
            if (this.phase === "linger") await this.#drain();
            return;
          }
          head = this.#takeHead();
        }
        if (head.kind === "error") return await this.#refuse(head);
        const length = head.contentLength;
        const body = length === undefined
          ? undefined
          : this.#takeBody(length) ?? await this.#readBody(head, length);
        if (this.phase === "linger") return void await this.#drain();
        this.#arm("handler", Infinity);
        let response: HttpResponse | Promise<HttpResponse>;
        try {
          response = this.#handler(
            toRequest(head, body, this.#conn.remoteAddr),
          );
          if (response instanceof Promise) response = await response;
          if (typeof response !== "object" || response === null) {
            throw new TypeError(`not a response: ${response}`);
          }
        } catch (error) {
          this.#log.error(`http handler failed: ${error}`);
          response = ANSWERS.internal;
        }
        const keepAlive = head.keepAlive && !head.chunked && !this.#closing;
        const open = await this.#respond(response, head, keepAlive);
        if (open && keepAlive) continue;
        // unread input (a chunked body, requests after a close) would turn
        // the close into a reset that can destroy the answer in flight
        if (head.chunked || this.#end > this.#start) await this.#linger();
        return;
      }
    } catch (error) {
      if (this.phase !== "closed" && !(error instanceof BodyError)) {
        this.#log.info(
          `http client ${formatAddr(this.#conn.remoteAddr)}: ${error}`,
        );
      }
    } finally {
      this.close();
    }
  }

  /**
   * Acts on a passed deadline: a request that stalls mid-head or mid-body
   * gets 408 and a lingering close; anything else is closed at once.
   */
  expire(): void {
    if (this.phase === "head" || this.phase === "body") {
      this.#enterLinger();
      const bytes = encodeResponse(ANSWERS.timeout, CLOSING);
      this.#conn.write(bytes).then(() => this.#conn.closeWrite()).catch(
        () => this.close(),
      );
      return;
    }
    this.close();
  }

  /** Asks the connection to end: now if idle, else after its response. */
  shutdown(): void {
    this.#closing = true;
    if (this.phase === "idle") this.close();
  }

  /** Closes the socket at once. */
  close(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.deadlineMs = Infinity;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  /** Writes all of `bytes` before the write deadline (else the reaper closes). */
  async write(bytes: Uint8Array): Promise<void> {
    this.#arm("write", this.#limits.writeTimeoutMs);
    for (let at = 0; at < bytes.length;) {
      at += await this.#conn.write(bytes.subarray(at));
    }
    this.written += bytes.length;
    this.deadlineMs = Infinity;
  }

  /** Answers a head that cannot be served (400, 413) and closes. */
  async #refuse(head: HeadError): Promise<void> {
    this.#log.info(
      `http client ${formatAddr(this.#conn.remoteAddr)}: ${head.reason}`,
    );
    const answer = head.status === 413 ? ANSWERS.tooLarge : ANSWERS.badRequest;
    await this.write(encodeResponse(answer, CLOSING));
    await this.#linger();
  }

  /**
   * Writes a response; one that cannot be sent (a bad field) is answered
   * 500 instead. A whole body goes out in one write when it can.
   */
  #respond(
    response: HttpResponse,
    head: RequestHead,
    keepAlive: boolean,
  ): Promise<boolean> {
    const context = {
      version: head.version,
      headOnly: head.method === "HEAD",
      keepAlive,
    };
    this.written = 0;
    if (!(response.body instanceof ReadableStream)) {
      let bytes: Uint8Array;
      try {
        bytes = encodeResponse(response, context);
      } catch (error) {
        this.#log.error(`http handler answered badly: ${error}`);
        bytes = encodeResponse(ANSWERS.internal, context);
      }
      if (bytes.length <= WHOLE_WRITE_BYTES) {
        return this.write(bytes).then(() => keepAlive);
      }
    }
    return writeResponse(this, response, context).catch((error) => {
      if (this.written > 0 || !(error instanceof TypeError)) throw error;
      this.#log.error(`http handler answered badly: ${error}`);
      return writeResponse(this, ANSWERS.internal, context);
    });
  }

  /** A complete head from the buffer, or `undefined` if more is needed. */
  #takeHead(): RequestHead | HeadError | undefined {
    this.#skipEmptyLines();
    if (this.#start === this.#end) return undefined;
    const limits = this.#limits;
    const found = findHeadEnd(
      this.#buffer,
      this.#start,
      this.#end,
      this.#scanned,
    );
    if (found.kind === "more") {
      this.#scanned = found.scanned;
      if (this.#end - this.#start < limits.maxHeadBytes) return undefined;
      return { kind: "error", status: 400, reason: "head too large" };
    }
    this.#scanned = 0;
    this.#skipped = false;
    if (found.kind === "error") return found;
    if (found.at - this.#start > limits.maxHeadBytes) {
      return { kind: "error", status: 400, reason: "head too large" };
    }
    const bytes = this.#buffer.subarray(this.#start, found.at);
    this.#start = found.at;
    return parseHead(bytes, limits);
  }

  /**
   * Arms the deadline for reading head bytes and returns where to read
   * them; `undefined` when closing. Waiting with nothing buffered is the
   * idle phase; the head deadline runs from the first byte.
   */
  #prepareRead(): Uint8Array | undefined {
    if (this.#start === this.#end) {
      if (this.#closing) return undefined;
      this.#start = this.#end = 0;
      this.#arm("idle", this.#limits.idleTimeoutMs);
    } else if (this.phase !== "head") {
      this.#arm("head", this.#limits.headTimeoutMs);
    }
    this.#makeRoom();
    return this.#buffer.subarray(this.#end);
  }

  /** Takes in a read's result; `false` at EOF or once expired. */
  #afterRead(n: number | null): boolean {
    if (n === null || this.phase === "linger") return false;
    this.#end += n;
    if (this.phase === "idle") this.#arm("head", this.#limits.headTimeoutMs);
    return true;
  }

  /** Compacts the buffer, and grows it up to the head limit when full. */
  #makeRoom(): void {
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buffer.length) {
      const bigger = new Uint8Array(
        Math.min(this.#buffer.length * 2, this.#limits.maxHeadBytes + 4),
      );
      bigger.set(this.#buffer);
      this.#buffer = bigger;
    }
  }

  /** The body if it is all buffered already (a small PUT usually is). */
  #takeBody(length: number): Uint8Array<ArrayBuffer> | undefined {
    if (this.#end - this.#start < length) return undefined;
    const body = this.#buffer.slice(this.#start, this.#start + length);
    this.#start += length;
    return body;
  }

  /** Reads a body whole; on a stalled body the reaper answers 408. */
  async #readBody(
    head: RequestHead,
    length: number,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const body = new Uint8Array(length);
    const buffered = this.#end - this.#start;
    body.set(this.#buffer.subarray(this.#start, this.#end));
    this.#start = this.#end;
    if (head.expectContinue) await this.write(CONTINUE);
    this.#arm("body", this.#limits.bodyTimeoutMs);
    for (let at = buffered; at < length;) {
      const n = await this.#conn.read(body.subarray(at));
      if (n === null) throw new Error("connection closed within a body");
      if (this.phase === "linger") break;
      at += n;
    }
    return body;
  }

  /**
   * Skips one empty line before a request line (RFC 9112 §2.2: some
   * clients send a CRLF after a body); a second one is a malformed head.
   */
  #skipEmptyLines(): void {
    const b = this.#buffer;
    if (
      !this.#skipped && this.#end - this.#start >= 2 &&
      b[this.#start] === 0x0d && b[this.#start + 1] === 0x0a
    ) {
      this.#start += 2;
      this.#skipped = true;
    }
  }

  /** Half-closes, then discards input until EOF, a limit or the deadline. */
  async #linger(): Promise<void> {
    await this.#conn.closeWrite();
    this.#enterLinger();
    await this.#drain();
  }

  #enterLinger(): void {
    this.#arm("linger", this.#limits.lingerMs);
  }

  /** Discards input until EOF or {@link LINGER_BYTES}; resolves to `false`. */
  async #drain(): Promise<false> {
    const scratch = this.#buffer;
    for (let discarded = 0; discarded < LINGER_BYTES;) {
      const n = await this.#conn.read(scratch);
      if (n === null) break;
      discarded += n;
    }
    return false;
  }

  /** Enters `phase` with a deadline `ms` from now. */
  #arm(phase: Phase, ms: number): void {
    if (this.phase === "closed" || this.phase === "linger") return;
    this.phase = phase;
    this.deadlineMs = this.#clock.nowMs + ms;
  }
}

function toRequest(
  head: RequestHead,
  body: Uint8Array<ArrayBuffer> | undefined,
  peer: Deno.NetAddr,
): HttpRequest {
  const { target } = head;
  const q = target.indexOf("?");
  return {
    method: head.method,
    target,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? "" : target.slice(q + 1),
    version: head.version,
    headers: head.headers,
    body,
    chunked: head.chunked,
    peer,
  };
}
