import { INSTRUCTIONS } from "../domain/command.ts";
import { ANY_NAMESPACE } from "../domain/namespace.ts";
import { type Frame, LineSplitter } from "../protocol/framing.ts";
import { parseRequest, type Request } from "../protocol/request.ts";
import { isBlank, readRequestId } from "../protocol/tokens.ts";
import { logger } from "../log.ts";
import type { Reply } from "../scheduler/scheduler.ts";
import type { Command } from "../domain/command.ts";
import type { ByteConn } from "./tls.ts";

const log = logger("server");
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * Answer text gathered from one chunk beyond which it is written out before
 * the chunk's next line: 64 KiB of `QUERY` lines must not build gigabytes.
 */
const FLUSH_ANSWER_CHARS = 256 * 1024;
const UTF8 = new TextDecoder("utf-8", { fatal: true });
const ENCODER = new TextEncoder();

/** What a connection asks of the rest of the daemon. */
export interface ConnectionContext {
  /** Applies a command for a client bound to `namespace`. */
  handle(command: Command, namespace: string): Reply;
  /** STAT's key/value pairs, in order (spec: protocol.md §6). */
  stat(): readonly (readonly [string, string | number | bigint])[];
  /** Authentication; absent when it is off (spec: protocol.md §9). */
  readonly auth?: Authenticator;
}

/** Checks AUTH secrets (spec: protocol.md §9). */
export interface Authenticator {
  /** Returns the namespace of the token whose secret this is. */
  verify(secret: string): string | undefined;
  /** How long a client has to authenticate after accept. */
  readonly deadlineMs: number;
  /** Pause before closing after a failed AUTH, against guessing. */
  readonly failureDelayMs: number;
}

type Answer = string | Promise<string> | undefined;

/**
 * Serves one client: reads lines, answers each in order with one write per
 * chunk read, and closes on EOF after answering every complete line (spec:
 * protocol.md §1–§4, §9). Never throws.
 */
export class Connection {
  readonly #conn: ByteConn;
  readonly #context: ConnectionContext;
  readonly #peer: string;
  /** The token's namespace once authenticated; with auth off, `*`. */
  #namespace: string | undefined;
  #closed = false;
  #deadline: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: ByteConn, context: ConnectionContext) {
    this.#conn = conn;
    this.#context = context;
    this.#peer = formatAddr(conn.remoteAddr);
    this.#namespace = context.auth ? undefined : ANY_NAMESPACE;
  }

  /** Serves the client until it leaves, fails or {@link close} is called. */
  async serve(): Promise<void> {
    log.info(`client connected: ${this.#peer}`);
    const { auth } = this.#context;
    if (auth) {
      this.#deadline = setTimeout(() => {
        log.info(
          `client ${this.#peer}: no AUTH within ${auth.deadlineMs / 1000} s`,
        );
        this.close();
      }, auth.deadlineMs);
    }
    const splitter = new LineSplitter();
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    try {
      while (!this.#closed) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        let answers: Answer[] = [];
        let answerChars = 0;
        let hangUp = false;
        // The frames may point into `buffer`, which is not read into again
        // before they are all answered, so awaiting a flush here is safe.
        for (const frame of splitter.push(buffer.subarray(0, n))) {
          const { answer, close } = this.#answerFrame(frame);
          if (answer !== undefined) {
            answers.push(answer);
            if (typeof answer === "string") answerChars += answer.length;
          }
          if (answerChars >= FLUSH_ANSWER_CHARS && !close) {
            await this.#send(answers);
            answers = [];
            answerChars = 0;
          }
          if (close) {
            hangUp = true;
            break;
          }
        }
        splitter.detach();
        await this.#send(answers);
        if (hangUp) {
          if (auth) await delay(auth.failureDelayMs);
          break;
        }
      }
    } catch (error) {
      if (!this.#closed) log.info(`client ${this.#peer}: ${describe(error)}`);
    } finally {
      this.close();
      await this.#conn.closed;
      log.info(`client disconnected: ${this.#peer}`);
    }
  }

  /** Closes the connection; pending answers are dropped. */
  close(): void {
    clearTimeout(this.#deadline);
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer
    }
  }

  async #send(answers: Answer[]): Promise<void> {
    if (answers.length === 0) return;
    const lines = answers.some((a) => typeof a !== "string")
      ? await Promise.all(answers)
      : answers as string[];
    const bytes = ENCODER.encode(lines.join(""));
    for (let written = 0; written < bytes.length;) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }

  #answerFrame(frame: Frame): { answer?: Answer; close?: boolean } {
    if (frame.kind === "overlong") {
      const requestId = readRequestId(frame.head, true);
      log.info(
        `request ${requestId ?? "(unreadable)"}: line longer than 4096 bytes`,
      );
      if (this.#namespace === undefined) return this.#refuse();
      return {
        answer: requestId === undefined ? undefined : `${requestId} ERROR\n`,
      };
    }
    let bytes = frame.bytes;
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    let line: string;
    try {
      line = UTF8.decode(bytes);
    } catch {
      if (this.#namespace === undefined) return this.#refuse();
      const requestId = readRequestId(bytes, false);
      log.info(`request ${requestId ?? "(unreadable)"}: invalid UTF-8`);
      return {
        answer: requestId === undefined ? undefined : `${requestId} ERROR\n`,
      };
    }
    if (isBlank(line)) return {};
    return this.#answerRequest(parseRequest(line));
  }

  #answerRequest(request: Request): { answer?: Answer; close?: boolean } {
    const namespace = this.#namespace;
    if (request.kind === "auth") return this.#authenticate(request.secret);
    if (namespace === undefined) return this.#refuse();
    if (request.kind === "invalid") {
      log.info(
        `request ${request.requestId ?? "(unreadable)"}: ${request.reason}`,
      );
      return {
        answer: request.requestId === undefined
          ? undefined
          : `${request.requestId} ERROR\n`,
      };
    }
    const { requestId, command } = request;
    log.debug(() =>
      `instruction received: ${
        INSTRUCTIONS[command.kind]
      } (request ${requestId})`
    );
    if (command.kind === "stat") {
      let text = "";
      for (const [key, value] of this.#context.stat()) {
        text += `${requestId} ${key} ${value}\n`;
      }
      return { answer: `${text}${requestId} OK\n` };
    }
    let reply: Reply;
    try {
      reply = this.#context.handle(command, namespace);
    } catch (error) {
      log.error(`request ${requestId}: ${describe(error)}`);
      return { answer: `${requestId} ERROR\n` };
    }
    if (!reply.ok) {
      log.info(`request ${requestId}: ${reply.reason}`);
      return { answer: `${requestId} ERROR\n` };
    }
    let text = "";
    for (const line of reply.lines ?? []) text += `${requestId} ${line}\n`;
    text += reply.body === undefined
      ? `${requestId} OK\n`
      : `${requestId} OK ${reply.body}\n`;
    if (reply.committed === undefined) return { answer: text };
    return {
      answer: reply.committed.then(() => text, (error) => {
        log.info(`request ${requestId}: not persisted: ${describe(error)}`);
        return `${requestId} ERROR\n`;
      }),
    };
  }

  #authenticate(
    secret: string | undefined,
  ): { answer?: Answer; close?: boolean } {
    const { auth } = this.#context;
    if (auth === undefined) return { answer: "OK\n" };
    if (this.#namespace !== undefined) {
      log.info(`client ${this.#peer}: AUTH after authentication refused`);
      return { answer: "ERROR\n" };
    }
    const namespace = secret === undefined ? undefined : auth.verify(secret);
    if (namespace === undefined) {
      log.info(`client ${this.#peer}: authentication failed`);
      return { answer: "ERROR\n", close: true };
    }
    this.#namespace = namespace;
    clearTimeout(this.#deadline);
    return { answer: "OK\n" };
  }

  /** Any other line before AUTH: `ERROR`, then close (spec: protocol.md §9). */
  #refuse(): { answer: Answer; close: boolean } {
    log.info(`client ${this.#peer}: request before AUTH refused`);
    return { answer: "ERROR\n", close: true };
  }
}

/** Writes an address as `host:port` (IPv6 hosts in brackets). */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") {
    return addr.transport;
  }
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
