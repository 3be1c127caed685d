/**
 * The AMQP 0-9-1 frame codec the amqp runner needs: method ids, frames,
 * big-endian fields, and reading method frames off a connection
 * (spec: runners.md §7).
 *
 * @module
 */
import { concat, writeAll } from "../io.ts";

/** The protocol header a client sends first. */
export const PROTOCOL_HEADER = new Uint8Array([65, 77, 81, 80, 0, 0, 9, 1]);
/** The largest frame this runner accepts or sends. */
export const MAX_FRAME_BYTES = 131_072;
/** AMQP 0-9-1 frame-min-size: every peer must accept frames this large. */
export const MIN_FRAME_BYTES = 4096;
const FRAME_END = 0xce;
export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
const FRAME_HEARTBEAT = 8;
/** Frame type, channel, size and frame-end: what a frame adds to its payload. */
export const FRAME_OVERHEAD = 8;

/** AMQP 0-9-1 methods this runner sends or expects, as class/method ids. */
export const METHOD = {
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
/** A method as its class id and method id. */
export type MethodId = readonly [number, number];

/** Arguments of a normal close: 200 `OK`, no failing method. */
export function closeArguments(id: MethodId): Uint8Array {
  return new Writer().method(id).short(200).shortString("OK").short(0).short(0)
    .bytes();
}

/** Reads the reply code and text of a Connection.Close or Channel.Close. */
export function closeReason(reader: Reader): string {
  const code = reader.short();
  return `${code} ${reader.shortString()}`;
}

export function isMethod(id: MethodId, expected: MethodId): boolean {
  return id[0] === expected[0] && id[1] === expected[1];
}

/** A received method frame. */
export interface MethodFrame {
  readonly channel: number;
  readonly id: MethodId;
  /** Positioned at the method's arguments. */
  readonly reader: Reader;
}

/** Reads and writes frames on one connection. */
export class FrameIo {
  /** What the exchange is doing, for failure reasons. */
  step = "connect";
  readonly #conn: Deno.Conn;
  #buffer: Uint8Array = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  write(bytes: Uint8Array): Promise<void> {
    return writeAll(this.#conn, bytes);
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
export class Writer {
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
export class Reader {
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

/** UTF-8 bytes of a text. */
export function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
