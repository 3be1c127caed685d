/**
 * One client exchange with the daemon: connect (TCP or TLS), `AUTH` when a
 * secret is given, one request, its answer, close; everything within one
 * deadline (spec: client.md §3, protocol.md §9).
 *
 * @module
 */
import {
  type Answer,
  AnswerReader,
  type AnswerShape,
} from "../protocol/answer_parse.ts";
import { quoteToken } from "../protocol/tokens.ts";
import { errorMessage } from "../errors.ts";
import { closeQuietly, writeAll } from "../io.ts";

/** A client failure with the exit code it gives (spec: client.md §3). */
export class ClientError extends Error {
  override name = "ClientError";
  constructor(readonly exitCode: 1 | 2 | 3, message: string) {
    super(message);
  }
}

/** Where the daemon is and how to reach it. */
export interface Target {
  readonly hostname: string;
  readonly port: number;
  /** The address as the user gave it, for messages. */
  readonly text: string;
  /** TLS, trusting these PEM certificates besides the system roots. */
  readonly tls?: { readonly caCerts: readonly string[] };
}

/** One request to send: its line without the request id, and its shape. */
export interface Exchange {
  readonly requestId: string;
  readonly line: string;
  readonly shape: AnswerShape;
  readonly secret?: string;
  readonly timeoutMs: number;
}

/** First bytes of a TLS record (alert, handshake): a TLS port answered. */
const TLS_RECORD_TYPES = [0x15, 0x16];
const ENCODER = new TextEncoder();

/**
 * Sends one request and returns its answer; throws {@link ClientError}
 * (exit 3) when the daemon cannot be reached, refuses AUTH, asks for one,
 * answers out of turn or not in time.
 */
export async function exchange(
  target: Target,
  request: Exchange,
): Promise<Answer> {
  let conn: Deno.Conn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const state = { handshaking: false };
  const connecting = new AbortController();
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const after = seconds(request.timeoutMs);
      reject(
        new ClientError(
          3,
          state.handshaking
            ? `TLS handshake with ${target.text} timed out after ${after} (not a TLS port?)`
            : `no answer from ${target.text} within ${after}`,
        ),
      );
      connecting.abort();
      if (conn) closeQuietly(conn);
    }, request.timeoutMs);
  });
  expired.catch(() => {});
  try {
    conn = await Promise.race([
      quietly(connect(target, connecting.signal, state)),
      expired,
    ]);
    return await Promise.race([
      quietly(converse(conn, target, request)),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
    if (conn) closeQuietly(conn);
  }
}

async function connect(
  target: Target,
  signal: AbortSignal,
  state: { handshaking: boolean },
): Promise<Deno.Conn> {
  const { hostname, port, tls } = target;
  try {
    if (tls === undefined) {
      return await Deno.connect({ hostname, port, signal });
    }
    const conn = await Deno.connectTls({
      hostname,
      port,
      caCerts: [...tls.caCerts],
    });
    state.handshaking = true;
    try {
      await conn.handshake();
    } catch (error) {
      closeQuietly(conn);
      throw new ClientError(
        3,
        `TLS with ${target.text} failed: ${errorMessage(error)}`,
      );
    }
    state.handshaking = false;
    return conn;
  } catch (error) {
    if (error instanceof ClientError) throw error;
    throw new ClientError(
      3,
      `cannot connect to ${target.text}: ${errorMessage(error)}`,
    );
  }
}

async function converse(
  conn: Deno.Conn,
  target: Target,
  request: Exchange,
): Promise<Answer> {
  const lines = new LineReader(conn, target);
  if (request.secret !== undefined) {
    await send(conn, target, `AUTH ${quoteToken(request.secret)}\n`);
    const answer = await lines.next();
    if (answer === "ERROR") {
      throw new ClientError(3, `authentication refused by ${target.text}`);
    }
    if (answer !== "OK") throw lines.unexpected(answer);
  }
  await send(conn, target, `${request.requestId} ${request.line}\n`);
  const reader = new AnswerReader(request.requestId, request.shape);
  for (;;) {
    const line = await lines.next();
    let answer: Answer | undefined;
    try {
      answer = reader.add(line);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw lines.unexpected(line);
    }
    if (answer?.kind === "unauthenticated") {
      throw new ClientError(3, `${target.text} requires authentication`);
    }
    if (answer !== undefined) return answer;
  }
}

async function send(
  conn: Deno.Conn,
  target: Target,
  text: string,
): Promise<void> {
  try {
    await writeAll(conn, ENCODER.encode(text));
  } catch (error) {
    throw new ClientError(
      3,
      `connection to ${target.text} failed: ${errorMessage(error)}`,
    );
  }
}

/** Reads answer lines; EOF and unreadable bytes are exit-3 failures. */
class LineReader {
  readonly #conn: Deno.Conn;
  readonly #target: Target;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  #pending = new Uint8Array(0);
  #first: number | undefined;

  constructor(conn: Deno.Conn, target: Target) {
    this.#conn = conn;
    this.#target = target;
  }

  async next(): Promise<string> {
    for (;;) {
      const lf = this.#pending.indexOf(0x0a);
      if (lf !== -1) {
        const bytes = this.#pending.subarray(0, lf);
        this.#pending = this.#pending.slice(lf + 1);
        try {
          return this.#decoder.decode(bytes);
        } catch {
          throw this.#garbled();
        }
      }
      const chunk = new Uint8Array(16 * 1024);
      let n: number | null;
      try {
        n = await this.#conn.read(chunk);
      } catch (error) {
        throw new ClientError(
          3,
          `connection to ${this.#target.text} failed: ${errorMessage(error)}`,
        );
      }
      if (n === null) throw this.#closed();
      this.#first ??= chunk[0];
      if (this.#tlsSpoke()) throw this.#garbled(); // no line will come
      const joined = new Uint8Array(this.#pending.length + n);
      joined.set(this.#pending);
      joined.set(chunk.subarray(0, n), this.#pending.length);
      this.#pending = joined;
    }
  }

  /** A line that is no answer to what was sent. */
  unexpected(line: string): ClientError {
    return new ClientError(
      3,
      `unexpected answer from ${this.#target.text}: ${JSON.stringify(line)}`,
    );
  }

  #closed(): ClientError {
    if (this.#tlsSpoke()) return this.#garbled();
    // A TLS port hangs up on the first plain line without a word.
    const hint = this.#target.tls === undefined && this.#first === undefined
      ? " (a TLS port? then use --tls)"
      : "";
    return new ClientError(
      3,
      `connection closed by ${this.#target.text} before the answer${hint}`,
    );
  }

  #garbled(): ClientError {
    if (this.#tlsSpoke()) {
      return new ClientError(3, `${this.#target.text} speaks TLS: use --tls`);
    }
    return new ClientError(3, `unreadable answer from ${this.#target.text}`);
  }

  #tlsSpoke(): boolean {
    return this.#target.tls === undefined && this.#first !== undefined &&
      TLS_RECORD_TYPES.includes(this.#first);
  }
}

/**
 * The promise itself, marked handled: once the deadline won the race, its
 * late failure (the connection closed under it) must not surface.
 */
function quietly<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
