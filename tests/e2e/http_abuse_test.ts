/**
 * Bad input on the daemon's HTTP port, each with its defined answer, while
 * the daemon goes on serving TCP and HTTP clients: malformed JSON, bodies
 * over 1 MiB (413 unread), missing Content-Length, chunked bodies, header
 * floods, unparseable requests and random mutations (spec: http-api.md §1,
 * §5).
 */
import assert from "node:assert/strict";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { get, latin1, RawClient } from "../_helpers/http_client.ts";
import { mulberry32, mutate } from "../_helpers/random.ts";
import {
  Api,
  assertError,
  assertJson,
  FAR_BODY,
  FAR_NS,
  jobJson,
} from "./_http.ts";

/** Asserts that TCP and HTTP clients are served promptly. */
async function assertServes(daemon: TestDaemon): Promise<void> {
  const started = performance.now();
  using tcp = await daemon.connect();
  assert.equal(await tcp.request(`s1 SET served ${FAR_NS}`), "s1 OK");
  assertJson(
    await new Api(daemon.httpPort).get("/jobs/served"),
    200,
    jobJson("served"),
  );
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 3000, `served after ${elapsed.toFixed(0)} ms`);
}

/** Sends raw bytes on a fresh connection; the answer and whether it closed. */
async function raw(port: number, bytes: string | Uint8Array) {
  using client = await RawClient.connect(port);
  await client.send(bytes);
  const response = await client.response();
  const closed = response.headers.get("connection") === "close" &&
    (await client.rest(3000)).ended;
  return { ...response, closed };
}

function put(path: string, body: string, extra = ""): string {
  return `PUT ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${
    latin1(body).length
  }\r\n${extra}\r\n${body}`;
}

Deno.test("malformed JSON and wrong types are 400 invalid json; deep nesting too is no 500", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  const bodies = [
    '{"execution":"2099-04-10T12:00:00Z"',
    '{"execution":"2099-04-10T12:00:00Z"}x',
    '{"execution":"2099-04-10T12:00:00Z"}{}',
    "{'execution':'2099-04-10T12:00:00Z'}",
    '{execution:"2099-04-10T12:00:00Z"}',
    '{"execution":"2099-04-10T12:00:00Z",}',
    '{"execution":"\\x41"}',
    "undefined",
    "NaN",
    "0",
    "true",
  ];
  for (const body of bodies) {
    assertError(await api.put("/jobs/a", body), 400, "invalid json", body);
  }
  // invalid UTF-8 in the body
  const invalidUtf8 = put(
    "/jobs/a",
    '{"execution":"2099-04-10T12:00:00Z","x":"\xff"}',
    "Connection: close\r\n",
  );
  assertError(
    await raw(daemon.httpPort, latin1(invalidUtf8)),
    400,
    "invalid json",
    "invalid UTF-8",
  );
  // nested half a million deep, within 1 MiB: checked, not a stack overflow
  const deep = "[".repeat(500_000) + "]".repeat(500_000);
  assertJson(
    await api.put(
      "/jobs/a",
      `{"execution":"${"2099-04-10T12:00:00Z"}","x":${deep}}`,
    ),
    200,
    jobJson("a"),
  );
  const deepBad = "[".repeat(500_000) + '"\\u0001"' + "]".repeat(500_000);
  assertError(
    await api.put(
      "/jobs/b",
      `{"execution":"2099-04-10T12:00:00Z","x":${deepBad}}`,
    ),
    400,
    "invalid json",
  );
  await assertServes(daemon);
});

Deno.test("a body over 1 MiB is 413 body too large on the head alone; exactly 1 MiB is read", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const port = daemon.httpPort;
  for (const expect of ["", "Expect: 100-continue\r\n"]) {
    using client = await RawClient.connect(port);
    // the head alone: the answer must not wait for the 2 MiB
    await client.send(
      `PUT /jobs/a HTTP/1.1\r\nHost: t\r\nContent-Length: ${
        2 << 20
      }\r\n${expect}\r\n`,
    );
    const response = await client.response();
    assertError(response, 413, "body too large", expect);
    assert.equal(response.headers.get("connection"), "close");
    await client.send("a".repeat(64 * 1024)).catch(() => {}); // drained, not read
    assert.ok((await client.rest()).ended);
  }
  for (const path of ["/rules/r", "/nothing", "/health"]) {
    const response = await raw(
      port,
      `PUT ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n`,
    );
    assertError(response, 413, "body too large", path);
  }
  const padding = (total: number) =>
    "x".repeat(total - `{"execution":"2099-04-10T12:00:00Z","pad":""}`.length);
  const exact = `{"execution":"2099-04-10T12:00:00Z","pad":"${
    padding(1 << 20)
  }"}`;
  assert.equal(exact.length, 1 << 20);
  assertJson(
    await new Api(port).put("/jobs/exact", exact),
    200,
    jobJson("exact"),
  );
  const over = exact.replace('"pad":"', '"pad":"x');
  assertError(
    await new Api(port).put("/jobs/over", over),
    413,
    "body too large",
  );
  assertError(await new Api(port).get("/jobs/over"), 404, "not found");
  await assertServes(daemon);
});

Deno.test("a PUT without Content-Length is 400 missing content-length; a chunked one too, then the connection closes", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const port = daemon.httpPort;
  for (const path of ["/jobs/a", "/rules/r"]) {
    using client = await RawClient.connect(port);
    await client.send(`PUT ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
    assertError(await client.response(), 400, "missing content-length", path);
    // the connection is still usable: nothing was left unread
    await client.send(get("/health"));
    assertJson(await client.response(), 200, '{"status":"ok"}');
  }
  const chunked =
    `PUT /jobs/a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${
      FAR_BODY.length.toString(16)
    }\r\n${FAR_BODY}\r\n0\r\n\r\n`;
  const answer = await raw(port, chunked);
  assertError(answer, 400, "missing content-length", "chunked");
  assert.ok(answer.closed, "the unread chunked body ends the connection");
  // Content-Length and Transfer-Encoding together: not parseable
  const both =
    `PUT /jobs/a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`;
  assertError(await raw(port, both), 400, "bad request");
  assertError(await new Api(port).get("/jobs/a"), 404, "not found");
  await assertServes(daemon);
});

Deno.test("header floods and unparseable requests are 400 bad request; a head of 16 KiB passes", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const port = daemon.httpPort;
  const fields = (n: number) =>
    Array.from({ length: n }, (_, i) => `X-${i}: v\r\n`).join("");
  assertJson(
    await raw(port, get("/health", fields(98) + "Connection: close\r\n")),
    200,
    '{"status":"ok"}',
    "100 fields",
  );
  for (const n of [100, 10_000]) {
    assertError(
      await raw(port, get("/health", fields(n))),
      400,
      "bad request",
      `${n} fields`,
    );
  }
  assertError(
    await raw(port, get("/health", `X: ${"a".repeat(1 << 20)}\r\n`)),
    400,
    "bad request",
    "1 MiB field",
  );
  const base = get("/health", "Connection: close\r\nX: \r\n").length;
  const fits = get(
    "/health",
    `Connection: close\r\nX: ${"a".repeat(16 * 1024 - base)}\r\n`,
  );
  assert.equal(fits.length, 16 * 1024);
  assertJson(await raw(port, fits), 200, '{"status":"ok"}', "16 KiB head");
  const over = get(
    "/health",
    `Connection: close\r\nX: ${"a".repeat(16 * 1024 - base + 1)}\r\n`,
  );
  assertError(await raw(port, over), 400, "bad request", "16 KiB + 1");
  const unparseable = [
    "GARBAGE\r\n\r\n",
    "GET /health HTTP/1.1\nHost: t\n\n",
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "GET /health HTTP/2.0\r\nHost: t\r\n\r\n",
    "GET /health HTTP/1.1\r\n\r\n",
    "GET http://t/health HTTP/1.1\r\nHost: t\r\n\r\n",
    "GET /health#x HTTP/1.1\r\nHost: t\r\n\r\n",
    "GET /jobs/a\x00 HTTP/1.1\r\nHost: t\r\n\r\n",
    "PUT /jobs/a HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
    "PUT /jobs/a HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
  ];
  for (const request of unparseable) {
    const response = await raw(port, request);
    assertError(response, 400, "bad request", JSON.stringify(request));
    assert.ok(response.closed, JSON.stringify(request));
  }
  await assertServes(daemon);
});

Deno.test("300 mutated API requests are each answered with a defined JSON status or a close", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const port = daemon.httpPort;
  const next = mulberry32(7);
  const valid = [
    put("/jobs/a%2Fb", FAR_BODY, "Connection: close\r\n"),
    put(
      "/rules/r",
      '{"pattern":"a","runner":"shell","args":["true"]}',
      "Connection: close\r\n",
    ),
    get("/jobs?prefix=a&limit=5&after=a", "Connection: close\r\n"),
  ];
  const seen = new Map<number, number>();
  for (let batch = 0; batch < 5; batch++) {
    await Promise.all(Array.from({ length: 60 }, async (_, i) => {
      using client = await RawClient.connect(port);
      await client.send(mutate(valid[i % valid.length]!, next)).catch(() => {});
      // an incomplete head or body waits for the 10 s deadline: close it
      const { text, ended } = await client.rest(1500);
      const status = text === "" ? 0 : Number(text.slice(9, 12));
      seen.set(status, (seen.get(status) ?? 0) + 1);
      if (ended && status >= 400) {
        assert.match(text, /\r\n\r\n\{"error":"[a-z -]+"\}$/);
      }
    }));
  }
  const allowed = [0, 200, 204, 400, 401, 404, 405, 408, 413];
  assert.deepEqual(
    [...seen.keys()].filter((s) => !allowed.includes(s)),
    [],
    JSON.stringify([...seen]),
  );
  assert.ok(
    (seen.get(400) ?? 0) > 0 && (seen.get(200) ?? 0) > 0,
    JSON.stringify([...seen]),
  );
  await assertServes(daemon);
});
