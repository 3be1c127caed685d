import { type Command, INSTRUCTIONS } from "../domain/command.ts";
import { ANY_NAMESPACE } from "../domain/namespace.ts";
import { isFailure, type Result } from "../domain/result.ts";
import {
  AUTH_ERROR,
  AUTH_OK,
  errorAnswer,
  renderAnswer,
} from "../protocol/answer.ts";
import { type Frame, LineSplitter } from "../protocol/framing.ts";
import { parseRequest, type Request } from "../protocol/request.ts";
import { isBlank, readRequestId } from "../protocol/tokens.ts";
import { logger } from "../log.ts";
import { AUTH_FAILURE_DELAY_MS, type Authenticator } from "./auth.ts";
import { ReadBuffer } from "./_read_buffers.ts";
import type { ByteConn } from "./tls.ts";
import { errorMessage } from "../errors.ts";
import { writeAll } from "../io.ts";

const log = logger("server");
/**
 * Answer text gathered from one chunk beyond which it is written out before
 * the chunk's next line: 64 KiB of `QUERY` lines must not build gigabytes.
 */
const FLUSH_ANSWER_CHARS = 256 * 1024;
const UTF8 = new TextDecoder("utf-8", { fatal: true });
const ENCODER = new TextEncoder();

/** What a connection asks of the rest of the daemon. */
export interface ConnectionContext {
  /** Applies a command for a client bound to `namespace` (the command layer). */
  execute(command: Command, namespace: string): Result;
  /** Authentication; absent when it is off (spec: protocol.md §9). */
  readonly auth?: Authenticator;
}

/**
 * The answers to one chunk of requests, in order. Mutations wait for their
 * journal group; a group that fails turns its answers into `ERROR`.
 */
class AnswerBatch {
  readonly texts: string[] = [];
  chars = 0;
  /** Per mutation: where its answer is, its request id, its group. */
  readonly #waitIndexes: number[] = [];
  readonly #waitIds: string[] = [];
  readonly #waitGroups: Promise<void>[] = [];
  /** The groups, each once per run of records sharing it. */
  readonly #groups: Promise<void>[] = [];

  add(text: string): void {
    this.texts.push(text);
    this.chars += text.length;
  }

  /** Adds an answer that holds until `committed` settles. */
  addCommitted(
    text: string,
    requestId: string,
    committed: Promise<void>,
  ): void {
    this.#waitIndexes.push(this.texts.length);
    this.#waitIds.push(requestId);
    this.#waitGroups.push(committed);
    if (this.#groups.at(-1) !== committed) this.#groups.push(committed);
    this.add(text);
  }

  /** Waits for every mutation's record and returns the text to write. */
  async settle(): Promise<string> {
    if (this.#groups.length > 0) {
      const failed = new Map<Promise<void>, unknown>();
      await Promise.all(
        this.#groups.map((p) => p.catch((error) => failed.set(p, error))),
      );
      if (failed.size > 0) this.#markFailed(failed);
    }
    return this.texts.join("");
  }

  #markFailed(failed: Map<Promise<void>, unknown>): void {
    for (let i = 0; i < this.#waitGroups.length; i++) {
      const group = this.#waitGroups[i]!;
      if (!failed.has(group)) continue;
      const requestId = this.#waitIds[i]!;
      log.info(
        `request ${requestId}: not persisted: ${
          errorMessage(failed.get(group))
        }`,
      );
      this.texts[this.#waitIndexes[i]!] = errorAnswer(requestId);
    }
  }
}

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
  /** Aborts at close, so a wait for an AUTH check gives up (auth on only). */
  readonly #closing: AbortController | undefined;
  #deadline: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: ByteConn, context: ConnectionContext) {
    this.#conn = conn;
    this.#context = context;
    this.#peer = formatAddr(conn.remoteAddr);
    this.#namespace = context.auth ? undefined : ANY_NAMESPACE;
    this.#closing = context.auth ? new AbortController() : undefined;
  }

  /** Serves the client until it leaves, fails or {@link close} is called. */
  async serve(): Promise<void> {
    log.info(`client connected: ${this.#peer}`);
    this.#armAuthDeadline();
    const splitter = new LineSplitter();
    const reads = new ReadBuffer();
    let buffer = reads.next();
    // The answers of the previous chunk, still waiting for their records to
    // be committed or for the socket: the next chunk is read and applied
    // meanwhile, and its answers go out after them.
    let sending: Promise<void> = Promise.resolve();
    const send = async (answers: AnswerBatch) => {
      await sending;
      sending = this.#send(answers);
      sending.catch(() => {}); // awaited (and thrown) by the next send
    };
    try {
      while (!this.#closed) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        const chunk = buffer.subarray(0, n);
        let answers = new AnswerBatch();
        let hangUp: HangUp = false;
        // The frames may point into `buffer`, which is not read into again
        // before they are all answered, so awaiting a send here is safe.
        for (const frame of splitter.push(chunk)) {
          const answered = this.#answerFrame(frame, answers);
          hangUp = typeof answered === "object" ? await answered : answered;
          if (hangUp || this.#closed) break;
          if (answers.chars >= FLUSH_ANSWER_CHARS) {
            await send(answers);
            answers = new AnswerBatch();
          }
        }
        splitter.detach();
        buffer = reads.next({ buffer, bytes: n });
        await send(answers);
        if (hangUp) {
          await sending;
          // Lines before AUTH are refused at once, but not at line rate.
          if (hangUp === "delayed") await delay(AUTH_FAILURE_DELAY_MS);
          break;
        }
      }
      await sending;
    } catch (error) {
      if (!this.#closed) {
        log.info(`client ${this.#peer}: ${errorMessage(error)}`);
      }
    } finally {
      reads.release();
      this.close();
      await this.#conn.closed;
      log.info(`client disconnected: ${this.#peer}`);
    }
  }

  /** With auth on, closes the connection if no AUTH succeeds in time. */
  #armAuthDeadline(): void {
    const { auth } = this.#context;
    if (!auth) return;
    this.#deadline = setTimeout(() => {
      log.info(
        `client ${this.#peer}: no AUTH within ${auth.deadlineMs / 1000} s`,
      );
      this.close();
    }, auth.deadlineMs);
  }

  /** Closes the connection; pending answers are dropped. */
  close(): void {
    clearTimeout(this.#deadline);
    if (this.#closed) return;
    this.#closed = true;
    this.#closing?.abort();
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer
    }
  }

  async #send(answers: AnswerBatch): Promise<void> {
    if (answers.texts.length === 0) return;
    await writeAll(this.#conn, ENCODER.encode(await answers.settle()));
  }

  /** Answers one line into `answers`; returns whether to hang up after. */
  #answerFrame(frame: Frame, answers: AnswerBatch): Answered {
    if (frame.kind === "text") return this.#answerLine(frame.text, answers);
    if (frame.kind === "overlong") {
      return this.#answerUnreadable(
        frame.head,
        true,
        "line longer than 4096 bytes",
        answers,
      );
    }
    let bytes = frame.bytes;
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    let line: string;
    try {
      line = UTF8.decode(bytes);
    } catch {
      return this.#answerUnreadable(bytes, false, "invalid UTF-8", answers);
    }
    return this.#answerLine(line, answers);
  }

  /**
   * Answers a line that cannot be read: `<id> ERROR` if its id can be; `cut`
   * when the bytes are the head of an overlong line (its id may be cut too).
   */
  #answerUnreadable(
    bytes: Uint8Array,
    cut: boolean,
    problem: string,
    answers: AnswerBatch,
  ): Answered {
    if (this.#namespace === undefined) return this.#refuse(answers);
    const requestId = readRequestId(bytes, cut);
    log.info(`request ${requestId ?? "(unreadable)"}: ${problem}`);
    if (requestId !== undefined) answers.add(errorAnswer(requestId));
    return false;
  }

  /** Answers one decoded line (without LF and CR). */
  #answerLine(line: string, answers: AnswerBatch): Answered {
    if (isBlank(line)) return false;
    return this.#answerRequest(parseRequest(line), answers);
  }

  #answerRequest(request: Request, answers: AnswerBatch): Answered {
    const namespace = this.#namespace;
    if (request.kind === "auth") {
      return this.#authenticate(request.secret, answers);
    }
    if (namespace === undefined) return this.#refuse(answers);
    if (request.kind === "invalid") {
      log.info(
        `request ${request.requestId ?? "(unreadable)"}: ${request.reason}`,
      );
      if (request.requestId !== undefined) {
        answers.add(errorAnswer(request.requestId));
      }
      return false;
    }
    const { requestId, command } = request;
    log.debug(() =>
      `instruction received: ${
        INSTRUCTIONS[command.kind]
      } (request ${requestId})`
    );
    let result: Result;
    try {
      result = this.#context.execute(command, namespace);
    } catch (error) {
      log.error(`request ${requestId}: ${errorMessage(error)}`);
      answers.add(errorAnswer(requestId));
      return false;
    }
    if (isFailure(result)) log.info(`request ${requestId}: ${result.reason}`);
    const text = renderAnswer(requestId, result);
    if (result.kind === "done") {
      answers.addCommitted(text, requestId, result.committed);
    } else {
      answers.add(text);
    }
    return false;
  }

  /** AUTH: answered at once when it changes nothing, else once checked. */
  #authenticate(secret: string | undefined, answers: AnswerBatch): Answered {
    const { auth } = this.#context;
    if (auth === undefined) {
      answers.add(AUTH_OK);
      return false;
    }
    if (this.#namespace !== undefined) {
      log.info(`client ${this.#peer}: AUTH after authentication refused`);
      answers.add(AUTH_ERROR);
      return false;
    }
    return this.#verify(auth, secret, answers);
  }

  async #verify(
    auth: Authenticator,
    secret: string | undefined,
    answers: AnswerBatch,
  ): Promise<HangUp> {
    const { remoteAddr } = this.#conn;
    const ip = "hostname" in remoteAddr ? remoteAddr.hostname : this.#peer;
    const outcome = await auth.verify(secret, ip, this.#closing?.signal);
    if (outcome.kind !== "accepted") {
      if (outcome.kind === "refused") {
        log.info(`client ${this.#peer}: authentication failed`);
      } else if (outcome.kind === "throttled") {
        log.debug(`client ${this.#peer}: AUTH refused unchecked (throttled)`);
      }
      answers.add(AUTH_ERROR);
      return "now";
    }
    this.#namespace = outcome.namespace;
    clearTimeout(this.#deadline);
    answers.add(AUTH_OK);
    return false;
  }

  /** Any other line before AUTH: `ERROR`, then close (spec: protocol.md §9). */
  #refuse(answers: AnswerBatch): HangUp {
    log.info(`client ${this.#peer}: request before AUTH refused`);
    answers.add(AUTH_ERROR);
    return "delayed";
  }
}

/**
 * After a line: `false` to go on, or hang up — `"now"`, or `"delayed"` (a
 * pause first, so refusals cannot be probed at line rate).
 */
type HangUp = false | "now" | "delayed";

/** A line's outcome: at once, or once an AUTH has been checked. */
type Answered = HangUp | Promise<HangUp>;

/** Writes an address as `host:port` (IPv6 hosts in brackets). */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") {
    return addr.transport;
  }
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
