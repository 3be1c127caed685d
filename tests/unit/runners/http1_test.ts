import assert from "node:assert/strict";
import { Http1Client, http1Target } from "../../../src/runners/_http1.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const REQUEST = ENCODER.encode(
  "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
);

/** What the server saw: each request's text and the connection it came on. */
interface Seen {
  readonly request: string;
  readonly connection: number;
}

/** An answer: raw bytes, then whether to close the connection after them. */
interface Answer {
  readonly bytes: string;
  readonly close?: boolean;
}

/**
 * A raw HTTP/1.1 server on loopback answering each request (head plus
 * `Content-Length` body) with `answer(index)`.
 */
async function withRawServer(
  answer: (index: number) => Answer,
  fn: (url: string, seen: Seen[], server: RawServer) => Promise<void>,
): Promise<void> {
  await using server = new RawServer(answer);
  await fn(`http://127.0.0.1:${server.port}/hook`, server.seen, server);
}

class RawServer implements AsyncDisposable {
  readonly seen: Seen[] = [];
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.Conn>();
  readonly #serving: Promise<void>[] = [];
  readonly #accepting: Promise<void>;
  connections = 0;

  constructor(readonly answer: (index: number) => Answer) {
    this.#accepting = this.#accept();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  /** Closes every open connection (a server dropping idle ones). */
  dropConnections(): void {
    for (const conn of this.#conns) conn.close();
    this.#conns.clear();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        this.#serving.push(this.#serve(conn, this.connections++));
      }
    } catch {
      // closed
    }
  }

  async #serve(conn: Deno.Conn, connection: number): Promise<void> {
    const buffer = new Uint8Array(4096);
    let pending = "";
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        pending += DECODER.decode(buffer.subarray(0, n));
        for (;;) {
          const head = pending.indexOf("\r\n\r\n");
          if (head < 0) break;
          const length = Number(
            /content-length: *(\d+)/i.exec(pending.slice(0, head))?.[1] ?? 0,
          );
          const end = head + 4 + length;
          if (pending.length < end) break;
          this.seen.push({ request: pending.slice(0, end), connection });
          pending = pending.slice(end);
          const { bytes, close } = this.answer(this.seen.length - 1);
          await conn.write(ENCODER.encode(bytes));
          if (close) {
            this.#conns.delete(conn);
            conn.close();
            return;
          }
        }
      }
    } catch {
      // closed by the test
    }
    if (this.#conns.delete(conn)) conn.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    this.dropConnections();
    await Promise.all(this.#serving);
  }
}

async function send(
  client: Http1Client,
  url: string,
  signal = new AbortController().signal,
): Promise<number> {
  return await client.send(http1Target(url)!, REQUEST, signal);
}

function withClient(
  fn: (client: Http1Client) => Promise<void>,
): () => Promise<void> {
  return async () => {
    const client = new Http1Client();
    try {
      await fn(client);
    } finally {
      client.close();
    }
  };
}

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfine\n";

Deno.test(
  "Http1Client sends consecutive requests over one kept-alive connection",
  withClient(async (client) => {
    await withRawServer(() => ({ bytes: OK }), async (url, seen) => {
      for (let i = 0; i < 3; i++) assert.equal(await send(client, url), 200);
      assert.deepEqual(seen.map((s) => s.connection), [0, 0, 0]);
      assert.equal(seen[0]!.request, DECODER.decode(REQUEST));
    });
  }),
);

Deno.test(
  "Http1Client reads answers of every size in turn, each from its own bytes (read buffers are reused)",
  withClient(async (client) => {
    const body = "HTTP/1.1 500 X\r\n\r\n".repeat(1500); // 28,500 bytes
    const answers = [
      `HTTP/1.1 201 Created\r\nX-Big: ${
        "b".repeat(20_000)
      }\r\nContent-Length: 0\r\n\r\n`,
      `HTTP/1.1 202 Accepted\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      "HTTP/1.1 204 No Content\r\n\r\n",
      OK,
    ];
    await withRawServer(
      (i) => ({ bytes: answers[i % answers.length]! }),
      async (url) => {
        const statuses: number[] = [];
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < answers.length; i++) {
            statuses.push(await send(client, url));
          }
        }
        assert.deepEqual(statuses, [201, 202, 204, 200, 201, 202, 204, 200]);
        const together = await Promise.all(
          Array.from({ length: 8 }, () => send(client, url)),
        );
        assert.equal(together.length, 8);
        assert.ok(
          together.every((status) => [200, 201, 202, 204].includes(status)),
        );
      },
    );
  }),
);

Deno.test(
  "Http1Client reads a chunked body with extensions and trailers to its end",
  withClient(async (client) => {
    const chunked =
      "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "4;ext=1\r\nabcd\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
    await withRawServer(
      (i) => ({ bytes: i === 0 ? chunked : OK }),
      async (url, seen) => {
        assert.equal(await send(client, url), 201);
        assert.equal(await send(client, url), 200);
        assert.deepEqual(seen.map((s) => s.connection), [0, 0]);
      },
    );
  }),
);

Deno.test(
  "Http1Client skips 100 Continue and reads the final answer",
  withClient(async (client) => {
    await withRawServer(
      () => ({ bytes: `HTTP/1.1 100 Continue\r\n\r\n${OK}` }),
      async (url) => {
        assert.equal(await send(client, url), 200);
      },
    );
  }),
);

Deno.test(
  "Http1Client reads a body without length to the end and does not reuse that connection",
  withClient(async (client) => {
    await withRawServer(
      () => ({ bytes: "HTTP/1.0 200 OK\r\n\r\nuntil close", close: true }),
      async (url, seen) => {
        assert.equal(await send(client, url), 200);
        assert.equal(await send(client, url), 200);
        assert.deepEqual(seen.map((s) => s.connection), [0, 1]);
      },
    );
  }),
);

Deno.test(
  "Http1Client honours Connection: close",
  withClient(async (client) => {
    await withRawServer(
      () => ({
        bytes: "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
        close: true,
      }),
      async (url, seen) => {
        assert.equal(await send(client, url), 204);
        assert.equal(await send(client, url), 204);
        assert.deepEqual(seen.map((s) => s.connection), [0, 1]);
      },
    );
  }),
);

Deno.test(
  "Http1Client sends again on a new connection when the server dropped the idle one",
  withClient(async (client) => {
    await withRawServer(() => ({ bytes: OK }), async (url, seen, server) => {
      assert.equal(await send(client, url), 200);
      server.dropConnections();
      assert.equal(await send(client, url), 200);
      assert.deepEqual(seen.map((s) => s.connection), [0, 1]);
    });
  }),
);

Deno.test(
  "Http1Client fails, without sending again, when the answer is cut short",
  withClient(async (client) => {
    await withRawServer(
      () => ({
        bytes: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        close: true,
      }),
      async (url, seen) => {
        await assert.rejects(send(client, url), /closed early/);
        assert.equal(seen.length, 1);
      },
    );
  }),
);

for (
  const [what, bytes, message] of [
    ["a malformed status line", "HTTP/2 200 OK\r\n\r\n", /status line/],
    ["a header without colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", /header/],
    [
      "a malformed Content-Length",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      /Content-Length/,
    ],
    [
      "a malformed chunk size",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      /chunk size/,
    ],
    [
      "a head over 64 KiB",
      `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n`,
      /too large/,
    ],
  ] as const
) {
  Deno.test(
    `Http1Client rejects ${what}`,
    withClient(async (client) => {
      await withRawServer(() => ({ bytes, close: true }), async (url) => {
        await assert.rejects(send(client, url), message);
      });
    }),
  );
}

Deno.test(
  "Http1Client gives up with the abort reason when aborted mid-answer",
  withClient(async (client) => {
    await withRawServer(
      () => ({ bytes: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab" }),
      async (url) => {
        const controller = new AbortController();
        const sending = send(client, url, controller.signal);
        setTimeout(() => controller.abort(new Error("timed out")), 30);
        await assert.rejects(sending, /timed out/);
      },
    );
  }),
);

Deno.test("http1Target() leaves https, userinfo and bad URLs to fetch", () => {
  assert.equal(http1Target("https://example.org/"), undefined);
  assert.equal(http1Target("http://u:p@example.org/"), undefined);
  assert.equal(http1Target("http://u@example.org/"), undefined);
  assert.equal(http1Target("http://"), undefined);
  assert.deepEqual(http1Target("http://example.org"), {
    hostname: "example.org",
    port: 80,
    host: "example.org",
    path: "/",
  });
  assert.deepEqual(http1Target("http://example.org:80/a%20b?q=1#frag"), {
    hostname: "example.org",
    port: 80,
    host: "example.org",
    path: "/a%20b?q=1",
  });
});
