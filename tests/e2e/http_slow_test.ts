/**
 * Clients that hold HTTP connections on the real daemon: a slow-loris head,
 * a body sent too slowly and an idle connection are dropped by their
 * deadlines (10 s, 10 s, 5 s), connections beyond the cap of 1024 are
 * answered 503, and TCP and HTTP clients are served meanwhile (spec:
 * http-api.md §5 and the server's own answers).
 */
import assert from "node:assert/strict";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { delay, get, RawClient } from "../_helpers/http_client.ts";
import { DEFAULT_LIMITS } from "../../src/server/http/http_server.ts";
import { Api, assertError, assertJson, FAR_NS } from "./_http.ts";

/** Asserts that a TCP and an HTTP request are each answered within a second or two. */
async function assertServes(daemon: TestDaemon, i: number): Promise<void> {
  const started = performance.now();
  using tcp = await daemon.connect();
  assert.equal(
    await tcp.request(`r${i} SET during.${i} ${FAR_NS}`),
    `r${i} OK`,
  );
  const tcpMs = performance.now() - started;
  assertJson(
    await new Api(daemon.httpPort).get("/health"),
    200,
    '{"status":"ok"}',
  );
  const totalMs = performance.now() - started;
  assert.ok(tcpMs < 2000, `TCP answered after ${tcpMs.toFixed(0)} ms`);
  assert.ok(
    totalMs < 3000,
    `TCP and HTTP answered after ${totalMs.toFixed(0)} ms`,
  );
}

/** Sends `text` a byte every `everyMs` until the server hangs up. */
async function trickle(
  client: RawClient,
  text: string,
  everyMs: number,
): Promise<void> {
  try {
    for (const char of text) {
      await client.send(char);
      await delay(everyMs);
    }
  } catch {
    // dropped by the server
  }
}

/** Reads the answer of a dropped connection and when the drop came. */
async function dropped(client: RawClient, sinceMs: number) {
  const response = await client.response();
  const rest = await client.rest(15_000);
  return { response, ended: rest.ended, afterMs: performance.now() - sinceMs };
}

Deno.test("a slow-loris head and a slow body get 408 request timeout at their 10 s deadline, an idle connection is closed at 5 s; TCP is served meanwhile", async () => {
  assert.equal(DEFAULT_LIMITS.headTimeoutMs, 10_000);
  assert.equal(DEFAULT_LIMITS.bodyTimeoutMs, 10_000);
  assert.equal(DEFAULT_LIMITS.idleTimeoutMs, 5_000);
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const port = daemon.httpPort;
  const started = performance.now();
  using loris = await RawClient.connect(port);
  const head = trickle(
    loris,
    get("/jobs", `X-Pad: ${"a".repeat(200)}\r\n`),
    200,
  );
  using slowBody = await RawClient.connect(port);
  await slowBody.send(
    "PUT /jobs/slow HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n\r\n{",
  );
  const body = trickle(
    slowBody,
    `"execution":"2099-04-10T12:00:00Z"${" ".repeat(200)}}`,
    200,
  );
  using idle = await RawClient.connect(port);
  const idleEnd = idle.rest(15_000).then((rest) => ({
    ...rest,
    afterMs: performance.now() - started,
  }));
  // while they hold their connections, others are served
  for (let i = 0; i < 8; i++) {
    await assertServes(daemon, i);
    await delay(1000);
  }
  const [headEnd, bodyEnd] = await Promise.all([
    dropped(loris, started),
    dropped(slowBody, started),
  ]);
  for (const [what, end] of [["head", headEnd], ["body", bodyEnd]] as const) {
    assertError(end.response, 408, "request timeout", what);
    assert.equal(end.response.headers.get("connection"), "close", what);
    assert.ok(end.ended, `${what}: the connection is closed`);
    assert.ok(
      end.afterMs >= 9_500 && end.afterMs < 20_000,
      `${what} dropped after ${end.afterMs.toFixed(0)} ms`,
    );
  }
  const idled = await idleEnd;
  assert.ok(
    idled.ended && idled.text === "",
    "the idle connection is closed without an answer",
  );
  assert.ok(
    idled.afterMs >= 4_500 && idled.afterMs < 15_000,
    `idle closed after ${idled.afterMs.toFixed(0)} ms`,
  );
  await Promise.all([head, body]);
  assertError(await new Api(port).get("/jobs/slow"), 404, "not found");
  await assertServes(daemon, 9);
});

Deno.test("connections beyond the cap of 1024 are answered 503 too many connections; TCP is served meanwhile", async () => {
  assert.equal(DEFAULT_LIMITS.maxConnections, 1024);
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const port = daemon.httpPort;
  const held: RawClient[] = [];
  try {
    // Each connection is served one request (so it is surely accepted) and
    // starts the next head: held for the 10 s head deadline, not the 5 s
    // idle one.
    for (let batch = 0; batch < 16; batch++) {
      held.push(
        ...await Promise.all(Array.from({ length: 64 }, async () => {
          const client = await RawClient.connect(port);
          await client.send(get("/health") + "GET /health HTTP/1.1\r\n");
          assert.equal((await client.response()).status, 200);
          return client;
        })),
      );
    }
    using refused = await RawClient.connect(port);
    const answer = await refused.response();
    assertError(answer, 503, "too many connections");
    assert.equal(answer.headers.get("connection"), "close");
    assert.ok((await refused.rest()).ended);
    using tcp = await daemon.connect();
    assert.equal(await tcp.request("r1 GET nothing"), "r1 ERROR");
    held.pop()!.close();
    held.pop()!.close();
    // once one closes, a new connection is served again
    let served = 0;
    for (let i = 0; i < 100 && served === 0; i++) {
      using client = await RawClient.connect(port);
      await client.send(get("/health", "Connection: close\r\n"));
      if ((await client.response()).status === 200) served++;
      else await delay(20);
    }
    assert.equal(served, 1);
  } finally {
    for (const client of held) client.close();
  }
});
