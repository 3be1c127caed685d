/**
 * The load generator: raw `Deno.connect` sockets, requests pre-encoded into
 * one buffer before the clock starts (fixed length, so request i is a plain
 * subarray), answers counted by their LFs without decoding a string.
 *
 * @module
 */

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const LF = 10;
/** 2100-01-01T00:00:00Z: far enough that nothing a run sets ever fires. */
export const FAR_FUTURE_NS = "4102444800000000000";
const COUNTER_DIGITS = 8;
const MARKER = "#".repeat(COUNTER_DIGITS);

/** How a server is asked to store one item; every answer is one line. */
export interface Wire {
  readonly name: string;
  /** What the first answer must start with (checked once per run). */
  readonly expect: string;
  /** The request storing item `id`. */
  request(id: string): string;
}

/** `r SET <id> <far future>` → `r OK`. */
export const ZTICK_SET: Wire = {
  name: "ztick SET",
  expect: "r OK",
  request: (id) => `r SET ${id} ${FAR_FUTURE_NS}\n`,
};

/** The same bytes as ZTICK_SET, sent to an echo server → `OK`. */
export const ECHO_LINE: Wire = {
  name: "echo",
  expect: "OK",
  request: (id) => `r SET ${id} ${FAR_FUTURE_NS}\n`,
};

/** RESP `ZADD jobs <score> <member>` → `:1`. */
export const REDIS_ZADD: Wire = {
  name: "Redis ZADD",
  expect: ":1",
  request: (id) => resp(["ZADD", "jobs", FAR_FUTURE_NS, id]),
};

/** beanstalkd `put` with a delay of one hour → `INSERTED <id>`. */
export const BEANSTALK_PUT: Wire = {
  name: "beanstalkd put",
  expect: "INSERTED",
  request: (id) => `put 0 3600 60 ${id.length}\r\n${id}\r\n`,
};

/** RESP encoding of one command. */
export function resp(args: string[]): string {
  let text = `*${args.length}\r\n`;
  for (const arg of args) {
    text += `$${ENCODER.encode(arg).length}\r\n${arg}\r\n`;
  }
  return text;
}

/** Pre-encoded requests of equal length: request i is bytes[i·size, (i+1)·size). */
export interface RequestPool {
  readonly wire: Wire;
  readonly bytes: Uint8Array;
  /** Bytes per request. */
  readonly size: number;
  readonly count: number;
}

/**
 * Encodes `count` requests for the ids `<prefix>.<00000000…>`; the id
 * length is fixed so every request has the same length.
 */
export function encodePool(
  wire: Wire,
  prefix: string,
  count: number,
): RequestPool {
  const template = ENCODER.encode(wire.request(`${prefix}.${MARKER}`));
  const text = DECODER.decode(template);
  const at = text.indexOf(MARKER);
  if (at < 0 || text.indexOf(MARKER, at + 1) >= 0) {
    throw new Error(`cannot find the id counter in ${JSON.stringify(text)}`);
  }
  const size = template.length;
  const bytes = new Uint8Array(size * count);
  for (let i = 0; i < count; i++) {
    const base = i * size;
    bytes.set(template, base);
    let n = i;
    for (let d = at + COUNTER_DIGITS - 1; d >= at; d--) {
      bytes[base + d] = 48 + (n % 10);
      n = Math.floor(n / 10);
    }
  }
  return { wire, bytes, size, count };
}

/** Counts LFs in the first `n` bytes of `buffer`. */
export function countLf(buffer: Uint8Array, n: number): number {
  const bytes = n === buffer.length ? buffer : buffer.subarray(0, n);
  let lines = 0;
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) {
    lines++;
  }
  return lines;
}

/** What one timed run did. */
export interface RunResult {
  readonly requests: number;
  readonly elapsedMs: number;
  readonly perSecond: number;
  /** Whether the run ended because the pool was used up, not the clock. */
  readonly poolExhausted: boolean;
  /** Round-trip times in ms, in request order (request/response shapes only). */
  readonly latenciesMs?: Float64Array;
}

/** Opens a TCP connection to 127.0.0.1 with Nagle off. */
export async function connect(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  return conn;
}

/** Writes all of `bytes`. */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<void> {
  while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
}

function checkFirst(wire: Wire, buffer: Uint8Array, n: number): void {
  const head = DECODER.decode(buffer.subarray(0, Math.min(n, 80)));
  if (!head.startsWith(wire.expect)) {
    throw new Error(
      `${wire.name}: expected an answer starting with ${
        JSON.stringify(wire.expect)
      }, got ${JSON.stringify(head)}`,
    );
  }
}

/**
 * One connection, up to `window` requests in flight: whenever answers
 * arrive, as many new requests as were answered are sent in one write.
 */
export async function runPipelined(
  port: number,
  pool: RequestPool,
  options: { window: number; durationMs: number },
): Promise<RunResult> {
  const conn = await connect(port);
  try {
    const { bytes, size, count } = pool;
    const buffer = new Uint8Array(256 * 1024);
    const startMs = performance.now();
    const deadlineMs = startMs + options.durationMs;
    let sent = Math.min(options.window, count);
    let done = 0;
    let checked = false;
    await writeAll(conn, bytes.subarray(0, sent * size));
    while (done < sent) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`${pool.wire.name}: connection closed`);
      if (!checked) {
        checkFirst(pool.wire, buffer, n);
        checked = true;
      }
      done += countLf(buffer, n);
      if (sent < count && performance.now() < deadlineMs) {
        const more = Math.min(done + options.window - sent, count - sent);
        if (more > 0) {
          await writeAll(
            conn,
            bytes.subarray(sent * size, (sent + more) * size),
          );
          sent += more;
        }
      }
    }
    const elapsedMs = performance.now() - startMs;
    return {
      requests: done,
      elapsedMs,
      perSecond: done / (elapsedMs / 1000),
      poolExhausted: sent === count,
    };
  } finally {
    conn.close();
  }
}

/**
 * `connections` connections, each sending one request and waiting for its
 * answer before the next; per-request round-trip times are recorded.
 */
export function runRequestResponse(
  port: number,
  pool: RequestPool,
  options: { connections: number; durationMs: number },
): Promise<RunResult> {
  let checked = false;
  return runExchanges(port, pool, options, {
    bufferBytes: 4096,
    async awaitAnswer(conn, buffer) {
      let lines = 0;
      while (lines === 0) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error(`${pool.wire.name}: connection closed`);
        if (!checked) {
          checkFirst(pool.wire, buffer, n);
          checked = true;
        }
        lines += countLf(buffer, n);
      }
    },
  });
}

/** How one request's answer is awaited on a connection. */
export interface Answering {
  readonly bufferBytes: number;
  awaitAnswer(conn: Deno.Conn, buffer: Uint8Array): Promise<void>;
}

/**
 * `connections` connections, one request in flight on each: a request of
 * the pool, its answer awaited as `answering` says, the next; records the
 * per-request round trips.
 */
export async function runExchanges(
  port: number,
  pool: RequestPool,
  options: { connections: number; durationMs: number },
  answering: Answering,
): Promise<RunResult> {
  const conns = await Promise.all(
    Array.from({ length: options.connections }, () => connect(port)),
  );
  const { bytes, size, count } = pool;
  const latencies = new Float64Array(count);
  let next = 0;
  const startMs = performance.now();
  const deadlineMs = startMs + options.durationMs;
  async function worker(conn: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(answering.bufferBytes);
    for (;;) {
      const t0 = performance.now();
      if (next >= count || t0 >= deadlineMs) return;
      const i = next++;
      await writeAll(conn, bytes.subarray(i * size, (i + 1) * size));
      await answering.awaitAnswer(conn, buffer);
      latencies[i] = performance.now() - t0;
    }
  }
  try {
    await Promise.all(conns.map(worker));
  } finally {
    for (const conn of conns) conn.close();
  }
  const elapsedMs = performance.now() - startMs;
  return {
    requests: next,
    elapsedMs,
    perSecond: next / (elapsedMs / 1000),
    poolExhausted: next === count,
    latenciesMs: latencies.subarray(0, next),
  };
}

/**
 * A request/response client on one connection for ad-hoc commands (RULE
 * SET, STAT, GET): sends a line, reads until `OK`/`ERROR` of that id.
 */
export class LineClient {
  readonly #conn: Deno.TcpConn;
  readonly #buffer = new Uint8Array(64 * 1024);
  #pending = "";

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async open(port: number): Promise<LineClient> {
    return new LineClient(await connect(port));
  }

  /** Sends `line` (id first) and returns every answer line up to the final one. */
  async request(line: string): Promise<string[]> {
    const id = line.split(" ", 1)[0]!;
    await writeAll(this.#conn, ENCODER.encode(`${line}\n`));
    const lines: string[] = [];
    for (;;) {
      let lf: number;
      while ((lf = this.#pending.indexOf("\n")) >= 0) {
        const answer = this.#pending.slice(0, lf);
        this.#pending = this.#pending.slice(lf + 1);
        lines.push(answer);
        if (
          answer === `${id} OK` || answer === `${id} ERROR` ||
          answer.startsWith(`${id} OK `)
        ) return lines;
      }
      const n = await this.#conn.read(this.#buffer);
      if (n === null) throw new Error("connection closed");
      this.#pending += DECODER.decode(this.#buffer.subarray(0, n));
    }
  }

  /** STAT as a map of key → value. */
  async stat(): Promise<Map<string, string>> {
    const lines = await this.request("s STAT");
    const map = new Map<string, string>();
    for (const line of lines) {
      const [, key, value] = line.split(" ");
      if (key !== undefined && value !== undefined) map.set(key, value);
    }
    return map;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

/**
 * Sends distinct text lines pipelined (`window` in flight) and waits for
 * one answer line each; returns how many answers contained `ERROR`.
 */
export async function sendLines(
  port: number,
  lines: readonly string[],
  window = 1000,
): Promise<{ errors: number; elapsedMs: number }> {
  const conn = await connect(port);
  try {
    const encoded = lines.map((line) => ENCODER.encode(`${line}\n`));
    const buffer = new Uint8Array(256 * 1024);
    const startMs = performance.now();
    let sent = 0;
    let done = 0;
    let errors = 0;
    const sendUpTo = async (limit: number) => {
      const end = Math.min(limit, encoded.length);
      if (end <= sent) return;
      let size = 0;
      for (let i = sent; i < end; i++) size += encoded[i]!.length;
      const bytes = new Uint8Array(size);
      let at = 0;
      for (let i = sent; i < end; i++) {
        bytes.set(encoded[i]!, at);
        at += encoded[i]!.length;
      }
      sent = end;
      await writeAll(conn, bytes);
    };
    await sendUpTo(window);
    while (done < encoded.length) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("connection closed");
      done += countLf(buffer, n);
      const text = DECODER.decode(buffer.subarray(0, n));
      for (
        let i = text.indexOf("ERROR");
        i >= 0;
        i = text.indexOf("ERROR", i + 5)
      ) {
        errors++;
      }
      await sendUpTo(done + window);
    }
    return { errors, elapsedMs: performance.now() - startMs };
  } finally {
    conn.close();
  }
}
