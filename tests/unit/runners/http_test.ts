import assert from "node:assert/strict";
import { runHttp } from "../../../src/runners/http.ts";
import type { HttpMethod } from "../../../src/domain/runner.ts";
import type { Execution } from "../../../src/scheduler/ports.ts";
import { Http1Client } from "../../../src/runners/_http1.ts";

interface Seen {
  method: string;
  body: string;
  headers: Headers;
}

async function withServer(
  respond: (request: Request) => Response | Promise<Response>,
  test: (url: string, seen: Seen[]) => Promise<void>,
) {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      seen.push({
        method: request.method,
        body: await request.text(),
        headers: request.headers,
      });
      return respond(request);
    },
  );
  try {
    await test(`http://127.0.0.1:${server.addr.port}/hook`, seen);
  } finally {
    await server.shutdown();
  }
}

function execution(signal = new AbortController().signal): Execution {
  return {
    job: {
      id: 'deploy."release".42',
      executionNs: 1775044800000000000n,
      status: "triggered",
    },
    rule: {
      id: "r",
      pattern: "deploy.",
      runner: { kind: "shell", command: "x" },
    },
    signal,
  };
}

/** Both ways a request goes out: `fetch`, and the keep-alive client. */
const PATHS = ["fetch", "keep-alive client"] as const;
const VERSION = "0.1.0";

for (const path of PATHS) {
  // One client per test, closed at its end (no connection outlives a test).
  let client: Http1Client | undefined;
  const options = () =>
    path === "fetch"
      ? { version: VERSION }
      : { version: VERSION, client: client ??= new Http1Client() };
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test(name, async () => {
      try {
        await fn();
      } finally {
        client?.close();
        client = undefined;
      }
    });

  for (const method of ["POST", "PUT"] as HttpMethod[]) {
    test(`runHttp() (${path}) ${method}s the exact JSON body with its headers`, async () => {
      await withServer(() => new Response("fine"), async (url, seen) => {
        const outcome = await runHttp(
          { kind: "http", method, url },
          execution(),
          options(),
        );
        assert.deepEqual(outcome, { ok: true, detail: "http:200" });
        assert.equal(seen[0]!.method, method);
        assert.equal(
          seen[0]!.body,
          '{"job_id":"deploy.\\"release\\".42","execution":1775044800000000000}',
        );
        assert.equal(seen[0]!.headers.get("content-type"), "application/json");
        assert.equal(
          seen[0]!.headers.get("content-length"),
          String(seen[0]!.body.length),
        );
        assert.equal(seen[0]!.headers.get("user-agent"), "ztick/0.1.0");
      });
    });
  }

  test(`runHttp() (${path}) counts Content-Length in UTF-8 bytes for a non-ASCII job id`, async () => {
    await withServer(() => new Response("fine"), async (url, seen) => {
      const id = "rapport.été.€.😀";
      const base = execution();
      const outcome = await runHttp(
        { kind: "http", method: "POST", url },
        { ...base, job: { ...base.job, id } },
        options(),
      );
      assert.deepEqual(outcome, { ok: true, detail: "http:200" });
      const body = `{"job_id":"${id}","execution":1775044800000000000}`;
      assert.equal(seen[0]!.body, body);
      assert.equal(
        seen[0]!.headers.get("content-length"),
        String(new TextEncoder().encode(body).length),
      );
    });
  });

  for (const method of ["GET", "DELETE"] as HttpMethod[]) {
    test(`runHttp() (${path}) sends ${method} without body or Content-Type`, async () => {
      await withServer(
        () => new Response(null, { status: 204 }),
        async (url, seen) => {
          const outcome = await runHttp(
            { kind: "http", method, url },
            execution(),
            options(),
          );
          assert.deepEqual(outcome, { ok: true, detail: "http:204" });
          assert.equal(seen[0]!.body, "");
          assert.equal(seen[0]!.headers.get("content-type"), null);
        },
      );
    });
  }

  test(`runHttp() (${path}) treats a redirect as a failure and does not follow it`, async () => {
    await withServer(
      () =>
        new Response(null, {
          status: 302,
          headers: { location: "/elsewhere" },
        }),
      async (url, seen) => {
        const outcome = await runHttp(
          { kind: "http", method: "GET", url },
          execution(),
          options(),
        );
        assert.equal(outcome.ok, false);
        assert.equal(seen.length, 1);
      },
    );
  });

  test(`runHttp() (${path}) treats 500 as a failure`, async () => {
    await withServer(
      () => new Response("boom", { status: 500 }),
      async (url) => {
        const outcome = await runHttp(
          { kind: "http", method: "POST", url },
          execution(),
          options(),
        );
        assert.equal(outcome.ok, false);
        assert.match(!outcome.ok ? outcome.reason : "", /answered 500/);
      },
    );
  });

  test(`runHttp() (${path}) fails on a refused connection without leaking credentials`, async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    const outcome = await runHttp(
      {
        kind: "http",
        method: "GET",
        url: `http://user:hunter2@127.0.0.1:${port}/`,
      },
      execution(),
      options(),
    );
    assert.equal(outcome.ok, false);
    assert.doesNotMatch(!outcome.ok ? outcome.reason : "", /hunter2/);
  });

  test(`runHttp() (${path}) gives up when the execution is aborted`, async () => {
    const { promise: hang, resolve: release } = Promise.withResolvers<
      Response
    >();
    await withServer(() => hang, async (url) => {
      const controller = new AbortController();
      const running = runHttp(
        { kind: "http", method: "GET", url },
        execution(controller.signal),
        options(),
      );
      setTimeout(() => controller.abort(new Error("timed out after 1 s")), 50);
      const outcome = await running;
      assert.equal(outcome.ok, false);
      assert.match(!outcome.ok ? outcome.reason : "", /timed out/);
      release(new Response("late"));
    });
  });

  test(`runHttp() (${path}) fails on a refused connection`, async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    const outcome = await runHttp(
      { kind: "http", method: "POST", url: `http://127.0.0.1:${port}/` },
      execution(),
      options(),
    );
    assert.equal(outcome.ok, false);
    assert.match(
      !outcome.ok ? outcome.reason : "",
      /^POST http:\/\/127\.0\.0\.1:/,
    );
  });
}
