/**
 * The HTTP side of the load generator: the same pre-encoded pools as the
 * TCP one (`_load.ts`), sent request/response over keep-alive connections,
 * each answer read to the end of its `content-length` body.
 *
 * @module
 */
import { type RequestPool, runExchanges, type RunResult } from "./_load.ts";

const DECODER = new TextDecoder();
const HEAD_END = new Uint8Array([13, 10, 13, 10]);

/** `PUT /jobs/<id>` with a fixed-length body: 200. */
export const HTTP_PUT = {
  name: "HTTP PUT /jobs",
  expect: "HTTP/1.1 200",
  request: (id: string) => {
    const body = '{"execution":"2100-01-01T00:00:00Z"}';
    return `PUT /jobs/${id} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  },
};

/** `GET /jobs/<id>` of a stored job: 200. */
export const HTTP_GET = {
  name: "HTTP GET /jobs",
  expect: "HTTP/1.1 200",
  request: (id: string) => `GET /jobs/${id} HTTP/1.1\r\nhost: bench\r\n\r\n`,
};

/** `r GET <id>` of a stored job over TCP: `r OK …`. */
export const TCP_GET = {
  name: "ztick GET",
  expect: "r OK planned",
  request: (id: string) => `r GET ${id}\n`,
};

/**
 * `connections` keep-alive connections, one request in flight on each;
 * per-request round-trip times are recorded, as `runRequestResponse` does
 * for line protocols.
 */
export function runHttpRequestResponse(
  port: number,
  pool: RequestPool,
  options: { connections: number; durationMs: number },
): Promise<RunResult> {
  return runExchanges(port, pool, options, {
    bufferBytes: 16_384,
    awaitAnswer: (conn, buffer) => readResponse(conn, buffer, pool.wire.expect),
  });
}

/** Reads one response (head and `content-length` body) into `buffer`. */
async function readResponse(
  conn: Deno.Conn,
  buffer: Uint8Array,
  expect: string,
): Promise<void> {
  let filled = 0;
  let needed = Infinity;
  while (filled < needed) {
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) throw new Error("HTTP: connection closed");
    filled += n;
    if (needed === Infinity) needed = responseLength(buffer, filled, expect);
  }
}

/** The whole response's length once its head is in, else Infinity. */
function responseLength(
  buffer: Uint8Array,
  filled: number,
  expect: string,
): number {
  const end = indexOf(buffer.subarray(0, filled), HEAD_END);
  if (end < 0) return Infinity;
  const head = DECODER.decode(buffer.subarray(0, end));
  if (!head.startsWith(expect)) {
    throw new Error(`expected ${expect}, got ${JSON.stringify(head)}`);
  }
  const length = /\r\ncontent-length: *([0-9]+)/i.exec(head)?.[1];
  return end + 4 + Number(length ?? 0);
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  for (
    let i = haystack.indexOf(needle[0]!);
    i >= 0 && i <= haystack.length - needle.length;
    i = haystack.indexOf(needle[0]!, i + 1)
  ) {
    if (needle.every((byte, k) => haystack[i + k] === byte)) return i;
  }
  return -1;
}
