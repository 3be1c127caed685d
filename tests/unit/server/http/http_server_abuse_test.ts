/**
 * The HTTP server's abuse limits over real TCP: header floods, bodies over
 * the limit, slow clients, a reader that never reads, the connection cap
 * and mutated requests.
 */
import assert from "node:assert/strict";
import { assertServes, BAD_REQUEST, echo, exchange, serve } from "./_server.ts";
import { delay, get, RawClient } from "../../../_helpers/http_client.ts";
import { mulberry32, mutate } from "../../../_helpers/random.ts";

Deno.test("HttpServer refuses header floods: more than 100 fields, a head over 16 KiB", async () => {
  await using server = serve();
  const { port } = server.addr;
  const fields = (count: number) =>
    Array.from({ length: count }, (_, i) => `X-${i}: v\r\n`).join("");
  assert.equal((await exchange(port, get("/", fields(99)))).status, 200); // 99 + Host
  assert.equal((await exchange(port, get("/", fields(100)))).body, BAD_REQUEST);
  assert.equal(
    (await exchange(port, get("/", fields(10_000)))).body,
    BAD_REQUEST,
  );
  assert.equal(
    (await exchange(port, get("/", `X: ${"a".repeat(1 << 20)}\r\n`))).body,
    BAD_REQUEST,
  );
  // the limit counts the request line, the fields and the blank line
  const base = get("/", "X: \r\n").length;
  const fits = get("/", `X: ${"a".repeat(16 * 1024 - base)}\r\n`);
  assert.equal(fits.length, 16 * 1024);
  assert.equal((await exchange(port, fits)).status, 200);
  const over = get("/", `X: ${"a".repeat(16 * 1024 - base + 1)}\r\n`);
  assert.equal((await exchange(port, over)).body, BAD_REQUEST);
  await assertServes(port);
});

Deno.test("HttpServer answers 413 to a body over 1 MiB without reading it or calling the handler", async () => {
  let calls = 0;
  await using server = serve((request) => {
    calls++;
    return echo(request);
  });
  using client = await RawClient.connect(server.addr.port);
  // the head alone: the answer must not wait for the 2 MiB
  await client.send(
    "PUT /jobs/a HTTP/1.1\r\nHost: a\r\nContent-Length: 2097152\r\n\r\n",
  );
  const response = await client.response();
  assert.equal(response.status, 413);
  assert.equal(response.body, '{"error":"body too large"}');
  assert.equal(response.headers.get("connection"), "close");
  await client.send("a".repeat(64 * 1024)).catch(() => {}); // drained, not read
  assert.ok((await client.rest()).ended);
  assert.equal(calls, 0);
  // exactly 1 MiB is accepted
  const body = "b".repeat(1 << 20);
  const ok = await exchange(
    server.addr.port,
    `PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).body.length, 1 << 20);
});

Deno.test("HttpServer drops a slow-loris client after the head deadline while serving others", async () => {
  await using server = serve(echo, { headTimeoutMs: 400 });
  const { port } = server.addr;
  using loris = await RawClient.connect(port);
  const started = performance.now();
  const trickling = (async () => {
    try {
      for (const char of get("/", "X: " + "a".repeat(100) + "\r\n")) {
        await loris.send(char);
        await delay(20);
      }
    } catch {
      // dropped
    }
  })();
  await delay(100);
  await assertServes(port);
  const answer = await loris.response();
  assert.equal(answer.status, 408);
  assert.equal(answer.body, '{"error":"request timeout"}');
  assert.ok((await loris.rest()).ended);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 350 && elapsed < 5000, `dropped after ${elapsed} ms`);
  loris.close();
  await trickling;
});

Deno.test("HttpServer drops a body sent too slowly, and an idle connection", async () => {
  await using server = serve(echo, { bodyTimeoutMs: 300, idleTimeoutMs: 300 });
  const { port } = server.addr;
  using slow = await RawClient.connect(port);
  await slow.send(
    "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc",
  );
  const answer = await slow.response();
  assert.equal(answer.status, 408);
  using idle = await RawClient.connect(port);
  await idle.send(get("/a"));
  assert.equal((await idle.response()).status, 200);
  const started = performance.now();
  const rest = await idle.rest(3000);
  assert.ok(rest.ended && rest.text === "", "closed silently");
  assert.ok(performance.now() - started < 4000);
});

Deno.test("HttpServer streams a large body in chunks and with back-pressure", async () => {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let pulled = 0;
  await using server = serve(() => ({
    status: 200,
    headers: [["content-type", "application/json"]],
    body: new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 50 * 16) return controller.close(); // 50 MiB
        pulled++;
        controller.enqueue(chunk);
      },
    }, { highWaterMark: 0 }),
  }), { writeTimeoutMs: 1500 });
  const { port } = server.addr;
  // a reader that reads gets it all, chunked
  using reader = await RawClient.connect(port);
  await reader.send(get("/", "Connection: close\r\n"));
  const whole = await reader.response();
  assert.equal(whole.headers.get("transfer-encoding"), "chunked");
  assert.equal(whole.body.length, 50 * 1024 * 1024);
  // a client that never reads is dropped, and little of the stream was pulled
  pulled = 0;
  const rssBefore = Deno.memoryUsage().rss;
  using stalled = await RawClient.connect(port);
  await stalled.send(get("/"));
  await delay(300);
  for (let i = 0; i < 60 && server.connections > 0; i++) await delay(100);
  assert.equal(server.connections, 0, "the stalled reader was dropped");
  assert.ok(pulled * 64 < 16 * 1024, `pulled ${pulled * 64} KiB of 50 MiB`);
  // the process is shared with other tests: a generous bound
  assert.ok(Deno.memoryUsage().rss - rssBefore < 128 * 1024 * 1024);
  await assertServes(port);
});

Deno.test("HttpServer answers 503 beyond the connection cap and counts connections", async () => {
  await using server = serve(echo, { maxConnections: 2 });
  const { port } = server.addr;
  using first = await RawClient.connect(port);
  using second = await RawClient.connect(port);
  await first.send(get("/1"));
  await second.send(get("/2"));
  await first.response();
  await second.response();
  assert.equal(server.connections, 2);
  const third = await exchange(port, get("/3"));
  assert.equal(third.status, 503);
  assert.equal(third.body, '{"error":"too many connections"}');
  assert.equal(server.counters.refused, 1);
  first.close();
  for (let i = 0; i < 20 && server.connections > 1; i++) await delay(50);
  assert.equal(
    (await exchange(port, get("/4", "Connection: close\r\n"))).status,
    200,
  );
});

Deno.test("HttpServer survives 400 mutated requests, answering each with a JSON status or a close", async () => {
  await using server = serve(echo, {
    headTimeoutMs: 300,
    bodyTimeoutMs: 300,
    idleTimeoutMs: 300,
  });
  const { port } = server.addr;
  const next = mulberry32(11);
  const valid =
    "PUT /jobs/a%2Fb?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
  const seen = new Map<number, number>();
  for (let batch = 0; batch < 20; batch++) {
    await Promise.all(Array.from({ length: 20 }, async () => {
      using client = await RawClient.connect(port);
      await client.send(mutate(valid, next)).catch(() => {});
      const { text, ended } = await client.rest(5000);
      assert.ok(ended, "the server ends every connection it cannot serve");
      const status = text === "" ? 0 : Number(text.slice(9, 12));
      seen.set(status, (seen.get(status) ?? 0) + 1);
      if (status >= 400) assert.match(text, /\r\n\r\n\{"error":"[a-z ]+"\}$/);
    }));
  }
  assert.deepEqual(
    [...seen.keys()].filter((s) => ![0, 200, 400, 408, 413].includes(s)),
    [],
  );
  await assertServes(port);
});
