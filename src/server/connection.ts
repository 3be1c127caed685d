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
import type { CountRequest } from "../telemetry/requests.ts";
import type { RequestTracer } from "../telemetry/telemetry.ts";
import type { TraceParent } from "../scheduler/ports.ts";
import { parseRequest, type Request } from "../protocol/request.ts";
import { isBlank, readRequestId } from "../protocol/tokens.ts";
import { logger } from "../log.ts";
import { AUTH_FAILURE_DELAY_MS, type Authenticator } from "./auth.ts";
import { AnswerBatch } from "./_answer_batch.ts";
import { OutputBuffer } from "./_output_buffer.ts";
import { ReadBuffer } from "./_read_buffers.ts";
import type { ByteConn } from "./tls.ts";
import { errorMessage } from "../errors.ts";
import { formatAddr, writeAll } from "../io.ts";
import { warnOfEarlySet } from "./early_set.ts";

const log = logger("server");
/**
 * Answer text gathered from one chunk beyond which it is written out before
 * the chunk's next line: 64 KiB of `QUERY` lines must not build gigabytes.
 */
const FLUSH_ANSWER_CHARS = 256 * 1024;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** What a connection asks of the rest of the daemon. */
export interface ConnectionContext {
  /**
   * Applies a command for a client bound to `namespace` (the command
   * layer); `span` is the request's span, kept with a job a SET schedules.
   */
  execute(command: Command, namespace: string, span?: TraceParent): Result;
  /** Authentication; absent when it is off (spec: protocol.md §9). */
  readonly auth?: Authenticator;
  /** Counts answered requests (`ztick_requests_total`). */
  readonly count?: CountRequest;
  /** One span per request counted; absent when telemetry is off. */
  readonly trace?: RequestTracer;
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
  /** Answers are written one batch at a time, so one buffer serves them. */
  readonly #output = new OutputBuffer();

  constructor(conn: ByteConn, context: ConnectionContext) {
    this.#conn = conn;
    this.#context = context;
    this.#peer = formatAddr(conn.remoteAddr);
    this.#namespace = context.auth ? undefined : ANY_NAMESPACE;
    this.#closing = context.auth ? new AbortController() : undefined;
  }

  /** Serves the client until it leaves, fails or {@link close} is called. */
  async serve(): Promise<void> {
    const peer = this.#peer;
    log.debug(`client connected: ${peer}`, { peer });
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
        const hangUp = await this.#answerChunk(splitter, buffer, n, send);
        buffer = reads.next({ buffer, bytes: n });
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
        const reason = errorMessage(error);
        log.info(`client ${peer}: ${reason}`, { peer, reason });
      }
    } finally {
      reads.release();
      this.close();
      await this.#conn.closed;
      log.debug(`client disconnected: ${peer}`, { peer });
    }
  }

  /**
   * Answers the lines `n` bytes of `buffer` complete, handing the answers
   * to `send` (in one piece, unless they grow large).
   */
  async #answerChunk(
    splitter: LineSplitter,
    buffer: Uint8Array,
    n: number,
    send: (answers: AnswerBatch) => Promise<void>,
  ): Promise<HangUp> {
    let answers = new AnswerBatch(this.#context.count);
    let hangUp: HangUp = false;
    // The frames may point into `buffer`, which is not read into again
    // before they are all answered, so awaiting a send here is safe.
    for (const frame of splitter.push(buffer.subarray(0, n))) {
      const answered = this.#answerFrame(frame, answers);
      hangUp = typeof answered === "object" ? await answered : answered;
      if (hangUp || this.#closed) break;
      if (answers.chars >= FLUSH_ANSWER_CHARS) {
        await send(answers);
        answers = new AnswerBatch(this.#context.count);
      }
    }
    splitter.detach();
    await send(answers);
    return hangUp;
  }

  /** With auth on, closes the connection if no AUTH succeeds in time. */
  #armAuthDeadline(): void {
    const { auth } = this.#context;
    if (!auth) return;
    this.#deadline = setTimeout(() => {
      const peer = this.#peer;
      log.info(`client ${peer}: no AUTH within ${auth.deadlineMs / 1000} s`, {
        peer,
      });
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
    const text = await answers.settle();
    await writeAll(this.#conn, this.#output.encode(text));
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
    log.info(`request ${requestId ?? "(unreadable)"}: ${problem}`, {
      request: requestId,
      reason: problem,
      peer: this.#peer,
    });
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
      const { requestId, reason } = request;
      log.info(`request ${requestId ?? "(unreadable)"}: ${reason}`, {
        request: requestId,
        reason,
        peer: this.#peer,
      });
      if (request.requestId !== undefined) {
        answers.add(errorAnswer(request.requestId));
      }
      return false;
    }
    const { requestId, command } = request;
    log.debug(() => ({
      message: `instruction received: ${
        INSTRUCTIONS[command.kind]
      } (request ${requestId})`,
      fields: { request: requestId },
    }));
    if (command.kind === "set") warnOfEarlySet(requestId, command, log);
    const name = INSTRUCTIONS[command.kind];
    const span = this.#context.trace?.startRequest(name, requestId);
    let result: Result;
    try {
      const link = schedules(command) ? span?.traceparent : undefined;
      result = this.#context.execute(command, namespace, link);
    } catch (error) {
      const reason = errorMessage(error);
      log.error(`request ${requestId}: ${reason}`, {
        request: requestId,
        reason,
      });
      span?.end(false);
      answers.add(errorAnswer(requestId));
      return false;
    }
    if (isFailure(result)) {
      const { reason } = result;
      log.info(`request ${requestId}: ${reason}`, {
        request: requestId,
        reason,
        peer: this.#peer,
      });
    }
    const text = renderAnswer(requestId, result);
    if (result.kind === "done") {
      answers.addCommitted(text, requestId, name, result.committed, span);
    } else {
      this.#context.count?.(name, !isFailure(result));
      span?.end(!isFailure(result));
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
      const peer = this.#peer;
      log.info(`client ${peer}: AUTH after authentication refused`, { peer });
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
    const span = this.#context.trace?.startRequest("AUTH", undefined);
    const outcome = await auth.verify(secret, ip, this.#closing?.signal);
    span?.end(outcome.kind === "accepted");
    if (outcome.kind !== "accepted") {
      const peer = this.#peer;
      if (outcome.kind === "refused") {
        log.info(`client ${peer}: authentication failed`, { peer });
      } else if (outcome.kind === "throttled") {
        log.debug(`client ${peer}: AUTH refused unchecked (throttled)`, {
          peer,
        });
      }
      this.#context.count?.("AUTH", false);
      answers.add(AUTH_ERROR);
      return "now";
    }
    this.#context.count?.("AUTH", true);
    this.#namespace = outcome.namespace;
    clearTimeout(this.#deadline);
    answers.add(AUTH_OK);
    return false;
  }

  /** Any other line before AUTH: `ERROR`, then close (spec: protocol.md §9). */
  #refuse(answers: AnswerBatch): HangUp {
    const peer = this.#peer;
    log.info(`client ${peer}: request before AUTH refused`, { peer });
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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** SET and CRON: the commands whose span a job keeps (observability.md §2). */
function schedules(command: Command): boolean {
  return command.kind === "set" || command.kind === "cron";
}
