import { fail, parseHostPort, percentDecode } from "./_url.ts";
import type { Runner } from "../domain/runner.ts";
import type { Execution, Outcome } from "../scheduler/ports.ts";
import { errorMessage } from "../errors.ts";
import { concat } from "../io.ts";

/** The built-in limit for one whole AMQP exchange (spec: runners.md §7). */
const AMQP_LIMIT_MS = 30_000;
const DEFAULT_PORT = 5672;
const PREFIX = "amqp://";
const PROTOCOL_HEADER = new Uint8Array([65, 77, 81, 80, 0, 0, 9, 1]);
const MAX_FRAME_BYTES = 131_072;
/** AMQP 0-9-1 frame-min-size: every peer must accept frames this large. */
const MIN_FRAME_BYTES = 4096;
const CHANNEL_MAX = 2047;
const FRAME_END = 0xce;
const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_HEARTBEAT = 8;
/** Frame type, channel, size and frame-end: what a frame adds to its payload. */
const FRAME_OVERHEAD = 8;

/** AMQP 0-9-1 methods this runner sends or expects, as class/method ids. */
const METHOD = {
  connectionStart: [10, 10],
  connectionStartOk: [10, 11],
  connectionTune: [10, 30],
  connectionTuneOk: [10, 31],
  connectionOpen: [10, 40],
  connectionOpenOk: [10, 41],
  connectionClose: [10, 50],
  connectionCloseOk: [10, 51],
  channelOpen: [20, 10],
  channelOpenOk: [20, 11],
  channelClose: [20, 40],
  channelCloseOk: [20, 41],
  basicPublish: [60, 40],
} as const;
type MethodId = readonly [number, number];

/** An amqp rule's runner. */
export type AmqpRunner = Extract<Runner, { kind: "amqp" }>;

/** Where and as whom an amqp runner connects, decoded from its DSN. */
export interface AmqpTarget {
  /** Host name or IP address; an IPv6 literal without its brackets. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Empty when the DSN has none. */
  readonly password: string;
  readonly vhost: string;
}

/** Tuning for tests; production code passes nothing. */
export interface AmqpOptions {
  /** Limit for the whole exchange, default 30 000 ms. */
  readonly limitMs?: number;
}

/**
 * Decodes `amqp://<user>[:<password>]@<host>[:<port>][/<vhost>]`
 * (spec: runners.md §7). Messages never contain the userinfo.
 *
 * @throws {SyntaxError} when the DSN breaks a rule of the spec's table
 *
 * @example Last `@` ends the userinfo, `%2F` decodes to `/`
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAmqpDsn } from "./amqp.ts";
 *
 * assert.deepEqual(parseAmqpDsn("amqp://app:p@ss:w@[::1]:5673/%2Fjobs"), {
 *   host: "::1",
 *   port: 5673,
 *   user: "app",
 *   password: "p@ss:w",
 *   vhost: "/jobs",
 * });
 * assert.deepEqual(parseAmqpDsn("amqp://guest@mq"), {
 *   host: "mq",
 *   port: 5672,
 *   user: "guest",
 *   password: "",
 *   vhost: "/",
 * });
 * assert.throws(() => parseAmqpDsn("amqps://guest:guest@mq/"), SyntaxError);
 * ```
 */
export function parseAmqpDsn(dsn: string): AmqpTarget {
  if (!dsn.startsWith(PREFIX)) fail("scheme must be amqp://");
  const rest = dsn.slice(PREFIX.length);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf("@");
  if (at < 0) fail("userinfo (user@) is required");
  const userinfo = authority.slice(0, at);
  const colon = userinfo.indexOf(":");
  const { host, port } = parseHostPort(authority.slice(at + 1), DEFAULT_PORT);
  const vhost = slash < 0 ? "" : percentDecode(rest.slice(slash + 1), "vhost");
  return {
    host,
    port,
    user: percentDecode(
      colon < 0 ? userinfo : userinfo.slice(0, colon),
      "user",
    ),
    password: colon < 0
      ? ""
      : percentDecode(userinfo.slice(colon + 1), "password"),
    vhost: vhost === "" ? "/" : vhost,
  };
}

/**
 * Publishes the job id as the body of one message to the runner's exchange
 * with its routing key, on a fresh connection closed afterwards; success
 * needs every step down to `Connection.Close-Ok` (spec: runners.md §7).
 * Never throws; any refusal, channel or connection close by the broker,
 * unexpected frame, abort of `execution.signal` or the 30 s limit is a
 * failure whose reason carries no credentials.
 */
export async function runAmqp(
  runner: AmqpRunner,
  execution: Execution,
  options: AmqpOptions = {},
): Promise<Outcome> {
  let target: AmqpTarget;
  try {
    target = parseAmqpDsn(runner.dsn);
  } catch (error) {
    return {
      ok: false,
      reason: `Cannot parse amqp DSN: ${errorMessage(error)}`,
    };
  }
  const where = `amqp://${
    target.host.includes(":") ? `[${target.host}]` : target.host
  }:${target.port}/${encodeURIComponent(target.vhost)}`;
  const failure = (detail: string): Outcome => ({
    ok: false,
    reason: `Cannot publish to exchange "${runner.exchange}" via "${where}": ${
      target.password ? detail.replaceAll(target.password, "***") : detail
    }`,
  });
  const tooLong = byteLength(runner.exchange) > 255
    ? "exchange"
    : byteLength(runner.routingKey) > 255
    ? "routing key"
    : byteLength(target.vhost) > 255
    ? "vhost"
    : undefined;
  if (tooLong) return failure(`${tooLong} exceeds 255 bytes`);
  if (execution.signal.aborted) {
    return failure(`aborted: ${errorMessage(execution.signal.reason)}`);
  }

  const stop = new AbortController();
  const limitMs = options.limitMs ?? AMQP_LIMIT_MS;
  const onAbort = () =>
    stop.abort(new Error(`aborted: ${errorMessage(execution.signal.reason)}`));
  execution.signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(
    () => stop.abort(new Error(`no completion within ${limitMs} ms`)),
    limitMs,
  );
  let conn: Deno.Conn | undefined;
  let io: FrameIo | undefined;
  const close = () => {
    try {
      conn?.close();
    } catch {
      // already closed; this also runs as an abort listener, so never throw
    }
    conn = undefined;
  };
  stop.signal.addEventListener("abort", close, { once: true });
  try {
    conn = await Deno.connect({
      hostname: target.host,
      port: target.port,
      signal: stop.signal,
    });
    stop.signal.throwIfAborted(); // an abort racing the connect's completion
    io = new FrameIo(conn);
    const refusal = await publish(
      io,
      target,
      runner,
      new TextEncoder().encode(execution.job.id),
    );
    return refusal === undefined ? { ok: true } : failure(refusal);
  } catch (error) {
    const detail = stop.signal.aborted
      ? errorMessage(stop.signal.reason)
      : errorMessage(error);
    return failure(`${detail} (during ${io?.step ?? "connect"})`);
  } finally {
    clearTimeout(timer);
    execution.signal.removeEventListener("abort", onAbort);
    stop.signal.removeEventListener("abort", close);
    close();
  }
}

/**
 * Runs steps 1–8 of the exchange. Returns why the broker closed the channel
 * (the connection is still closed cleanly then), or nothing on success;
 * throws on any other problem.
 */
async function publish(
  io: FrameIo,
  target: AmqpTarget,
  runner: AmqpRunner,
  body: Uint8Array,
): Promise<string | undefined> {
  io.step = "handshake";
  await io.write(PROTOCOL_HEADER);
  await io.expect(0, METHOD.connectionStart);
  await io.sendMethod(
    0,
    METHOD.connectionStartOk,
    new Writer()
      .long(0) // empty client-properties table
      .shortString("PLAIN")
      .longString(
        concat([
          new Uint8Array([0]),
          encode(target.user),
          new Uint8Array([0]),
          encode(target.password),
        ]),
      )
      .shortString("en_US"),
  );
  // A broker refusing PLAIN credentials just drops the connection here.
  io.step = "login";
  const tune = await io.expect(0, METHOD.connectionTune);
  tune.short(); // channel-max: the spec fixes ours
  const brokerFrameMax = tune.long();
  const frameMax = brokerFrameMax === 0
    ? MAX_FRAME_BYTES
    : Math.min(brokerFrameMax, MAX_FRAME_BYTES);
  if (frameMax < MIN_FRAME_BYTES) {
    throw new Error(`broker frame-max ${frameMax} is below ${MIN_FRAME_BYTES}`);
  }
  await io.sendMethod(
    0,
    METHOD.connectionTuneOk,
    new Writer().short(CHANNEL_MAX).long(frameMax).short(0),
  );
  io.step = "vhost open";
  await io.sendMethod(
    0,
    METHOD.connectionOpen,
    new Writer().shortString(target.vhost).shortString("").octet(0),
  );
  await io.expect(0, METHOD.connectionOpenOk);
  io.step = "channel open";
  await io.sendMethod(1, METHOD.channelOpen, new Writer().shortString(""));
  await io.expect(1, METHOD.channelOpenOk);

  io.step = "publish";
  const frames = [
    io.frame(
      FRAME_METHOD,
      1,
      new Writer().method(METHOD.basicPublish).short(0)
        .shortString(runner.exchange).shortString(runner.routingKey)
        .octet(0) // mandatory = false, immediate = false
        .bytes(),
    ),
    io.frame(
      FRAME_HEADER,
      1,
      new Writer().short(METHOD.basicPublish[0]).short(0)
        .longLong(body.length).short(0).bytes(),
    ),
  ];
  const chunkBytes = frameMax - FRAME_OVERHEAD;
  for (let offset = 0; offset < body.length; offset += chunkBytes) {
    frames.push(
      io.frame(FRAME_BODY, 1, body.subarray(offset, offset + chunkBytes)),
    );
  }
  frames.push(io.frame(FRAME_METHOD, 1, closeArguments(METHOD.channelClose)));
  await io.write(concat(frames));

  // The broker may have closed the channel already (a missing exchange is a
  // 404): then it sends Channel.Close instead of Channel.Close-Ok.
  let refusal: string | undefined;
  const answer = await io.readMethod();
  if (answer.channel === 1 && isMethod(answer.id, METHOD.channelClose)) {
    refusal = `broker closed the channel: ${closeReason(answer.reader)}`;
    await io.sendMethod(1, METHOD.channelCloseOk, new Writer());
    // Its answer to our own crossing Channel.Close may still come: the
    // loop below skips anything on channel 1.
  } else {
    await io.check(answer, 1, METHOD.channelCloseOk);
  }

  io.step = "connection close";
  await io.write(
    io.frame(FRAME_METHOD, 0, closeArguments(METHOD.connectionClose)),
  );
  for (;;) {
    const next = await io.readMethod();
    if (refusal !== undefined && next.channel === 1) continue;
    await io.check(next, 0, METHOD.connectionCloseOk);
    return refusal;
  }
}

/** Arguments of a normal close: 200 `OK`, no failing method. */
function closeArguments(id: MethodId): Uint8Array {
  return new Writer().method(id).short(200).shortString("OK").short(0).short(0)
    .bytes();
}

/** Reads the reply code and text of a Connection.Close or Channel.Close. */
function closeReason(reader: Reader): string {
  const code = reader.short();
  return `${code} ${reader.shortString()}`;
}

function isMethod(id: MethodId, expected: MethodId): boolean {
  return id[0] === expected[0] && id[1] === expected[1];
}

/** A received method frame. */
interface MethodFrame {
  readonly channel: number;
  readonly id: MethodId;
  /** Positioned at the method's arguments. */
  readonly reader: Reader;
}

/** Reads and writes frames on one connection. */
class FrameIo {
  /** What the exchange is doing, for failure reasons. */
  step = "connect";
  readonly #conn: Deno.Conn;
  #buffer: Uint8Array = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let offset = 0; offset < bytes.length;) {
      offset += await this.#conn.write(bytes.subarray(offset));
    }
  }

  frame(type: number, channel: number, payload: Uint8Array): Uint8Array {
    const head = new Writer().octet(type).short(channel).long(payload.length)
      .bytes();
    return concat([head, payload, new Uint8Array([FRAME_END])]);
  }

  async sendMethod(channel: number, id: MethodId, args: Writer): Promise<void> {
    const payload = concat([new Writer().method(id).bytes(), args.bytes()]);
    await this.write(this.frame(FRAME_METHOD, channel, payload));
  }

  /** Reads the next method frame, skipping heartbeats. */
  async readMethod(): Promise<MethodFrame> {
    for (;;) {
      const head = new Reader(await this.#take(7));
      const type = head.octet();
      const channel = head.short();
      const size = head.long();
      if (type === 0x41) {
        // "AMQP…": the broker rejects our protocol version
        throw new Error("broker does not speak AMQP 0-9-1");
      }
      if (size > MAX_FRAME_BYTES) throw new Error(`frame of ${size} bytes`);
      const payload = await this.#take(size + 1);
      if (payload[size] !== FRAME_END) throw new Error("malformed frame");
      if (type === FRAME_HEARTBEAT) continue;
      if (type !== FRAME_METHOD) {
        throw new Error(`unexpected frame type ${type} on channel ${channel}`);
      }
      const reader = new Reader(payload.subarray(0, size));
      return { channel, id: [reader.short(), reader.short()], reader };
    }
  }

  /** Reads the next method frame and requires it to be `id` on `channel`. */
  async expect(channel: number, id: MethodId): Promise<Reader> {
    const frame = await this.readMethod();
    await this.check(frame, channel, id);
    return frame.reader;
  }

  /**
   * Throws unless the frame is `id` on `channel`; a Connection.Close from
   * the broker (refused credentials or vhost, …) is answered first.
   */
  async check(
    frame: MethodFrame,
    channel: number,
    id: MethodId,
  ): Promise<void> {
    if (frame.channel === channel && isMethod(frame.id, id)) return;
    if (frame.channel === 0 && isMethod(frame.id, METHOD.connectionClose)) {
      const reason = closeReason(frame.reader);
      try {
        await this.sendMethod(0, METHOD.connectionCloseOk, new Writer());
      } catch {
        // the broker may already have dropped the socket
      }
      throw new Error(`broker closed the connection: ${reason}`);
    }
    if (frame.channel !== 0 && isMethod(frame.id, METHOD.channelClose)) {
      throw new Error(
        `broker closed the channel: ${closeReason(frame.reader)}`,
      );
    }
    throw new Error(
      `expected method ${id.join(".")} on channel ${channel}, got ${
        frame.id.join(".")
      } on channel ${frame.channel}`,
    );
  }

  async #take(length: number): Promise<Uint8Array> {
    while (this.#buffer.length < length) {
      const chunk = new Uint8Array(Math.max(16 * 1024, length));
      const read = await this.#conn.read(chunk);
      if (read === null) throw new Error("connection closed early");
      this.#buffer = concat([this.#buffer, chunk.subarray(0, read)]);
    }
    const bytes = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length);
    return bytes;
  }
}

/** Builds big-endian AMQP fields. */
class Writer {
  #parts: Uint8Array[] = [];

  octet(value: number): this {
    this.#parts.push(new Uint8Array([value]));
    return this;
  }

  short(value: number): this {
    return this.#number(2, (view) => view.setUint16(0, value));
  }

  long(value: number): this {
    return this.#number(4, (view) => view.setUint32(0, value));
  }

  longLong(value: number): this {
    return this.#number(8, (view) => view.setBigUint64(0, BigInt(value)));
  }

  method(id: MethodId): this {
    return this.short(id[0]).short(id[1]);
  }

  shortString(text: string): this {
    const bytes = encode(text);
    if (bytes.length > 255) throw new Error("short string exceeds 255 bytes");
    this.#parts.push(new Uint8Array([bytes.length]), bytes);
    return this;
  }

  longString(bytes: Uint8Array): this {
    this.long(bytes.length);
    this.#parts.push(bytes);
    return this;
  }

  bytes(): Uint8Array {
    return concat(this.#parts);
  }

  #number(size: number, set: (view: DataView) => void): this {
    const bytes = new Uint8Array(size);
    set(new DataView(bytes.buffer));
    this.#parts.push(bytes);
    return this;
  }
}

/** Reads big-endian AMQP fields; throws when a field runs past the end. */
class Reader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  octet(): number {
    return this.#view.getUint8(this.#advance(1));
  }

  short(): number {
    return this.#view.getUint16(this.#advance(2));
  }

  long(): number {
    return this.#view.getUint32(this.#advance(4));
  }

  shortString(): string {
    const length = this.octet();
    const start = this.#advance(length);
    return new TextDecoder().decode(
      this.#bytes.subarray(start, start + length),
    );
  }

  #advance(size: number): number {
    const start = this.#offset;
    if (start + size > this.#bytes.length) throw new Error("truncated frame");
    this.#offset += size;
    return start;
  }
}

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function byteLength(text: string): number {
  return encode(text).length;
}
