/** runRedis() against a private redis-server with passwords and ACL users, and the failures that need no broker (URL parsing and the shared server are in redis_test.ts). */
import assert from "node:assert/strict";
import { runRedis } from "../../../src/runners/redis.ts";
import {
  BROKER_HOST,
  freePort,
  gatedTest,
  redisCli,
  startSilentServer,
  testExecution,
  uniqueName,
} from "../../_helpers/brokers.ts";
import {
  ALICE_PASSWORD,
  gate,
  PASSWORD,
  reasonOf,
  redis,
  startSecuredServer,
} from "./_redis.ts";

// --- Against a private server with passwords --------------------------------

gatedTest(gate, "runRedis() authenticates with a password only", async () => {
  await using server = await startSecuredServer();
  const key = uniqueName("auth1");
  const url = `redis://:${
    encodeURIComponent(PASSWORD)
  }@${BROKER_HOST}:${server.port}/3`;
  const outcome = await runRedis(
    redis(url, "SET", key),
    testExecution("job.auth.1"),
  );
  assert.deepEqual(outcome, { ok: true, detail: "ok" });
  assert.equal(
    await redisCli(["-a", PASSWORD, "--no-auth-warning", "GET", key], {
      port: server.port,
      db: 3,
    }),
    "job.auth.1",
  );
});

gatedTest(
  gate,
  "runRedis() authenticates a raw, unencoded password with : and @",
  async () => {
    await using server = await startSecuredServer();
    const url = `redis://:${PASSWORD}@${BROKER_HOST}:${server.port}`;
    const outcome = await runRedis(
      redis(url, "RPUSH", uniqueName("auth-raw")),
      testExecution("job.auth.raw"),
    );
    assert.deepEqual(outcome, { ok: true, detail: "ok" });
  },
);

gatedTest(
  gate,
  "runRedis() authenticates an ACL user with its password",
  async () => {
    await using server = await startSecuredServer();
    const key = uniqueName("auth2");
    const url = `redis://alice:${
      encodeURIComponent(ALICE_PASSWORD)
    }@${BROKER_HOST}:${server.port}`;
    const outcome = await runRedis(
      redis(url, "SET", key),
      testExecution("job.auth.2"),
    );
    assert.deepEqual(outcome, { ok: true, detail: "ok" });
    assert.equal(
      await redisCli(["-a", PASSWORD, "--no-auth-warning", "GET", key], {
        port: server.port,
      }),
      "job.auth.2",
    );
  },
);

gatedTest(
  gate,
  "runRedis() fails on a wrong password without revealing it",
  async () => {
    await using server = await startSecuredServer();
    for (const userinfo of [":wrong-pass-42", "alice:wrong-pass-42"]) {
      const url = `redis://${userinfo}@${BROKER_HOST}:${server.port}`;
      const outcome = await runRedis(
        redis(url, "SET", uniqueName("wrong")),
        testExecution("job.auth.wrong"),
      );
      assert.equal(outcome.ok, false, userinfo);
      assert.match(reasonOf(outcome), /AUTH answered -WRONGPASS/);
      assert.ok(
        !reasonOf(outcome).includes("wrong-pass-42"),
        reasonOf(outcome),
      );
    }
  },
);

gatedTest(
  gate,
  "runRedis() fails without AUTH when the server requires it",
  async () => {
    await using server = await startSecuredServer();
    const outcome = await runRedis(
      redis(`redis://alice@${BROKER_HOST}:${server.port}`, "SET", "k"), // user only: no AUTH
      testExecution("job.auth.missing"),
    );
    assert.equal(outcome.ok, false);
    assert.match(reasonOf(outcome), /SET answered -NOAUTH/);
  },
);

// --- Failures that need no broker -------------------------------------------

Deno.test("runRedis() fails when the connection is refused", async () => {
  const outcome = await runRedis(
    redis(`redis://u:hunter2@${BROKER_HOST}:${freePort()}`, "SET", "k"),
    testExecution("job.refused"),
  );
  assert.equal(outcome.ok, false);
  assert.match(reasonOf(outcome), /refused/i);
  assert.ok(!reasonOf(outcome).includes("hunter2"));
});

Deno.test({
  name: "runRedis() fails on a malformed URL without revealing the password",
  permissions: "none",
  async fn() {
    for (const url of ["redis://:hunter2@h/256", "redis://:hun/ter2@h:1"]) {
      const outcome = await runRedis(
        redis(url, "SET", "k"),
        testExecution("job.bad"),
      );
      assert.equal(outcome.ok, false, url);
      assert.match(reasonOf(outcome), /^Cannot parse redis URL: /);
      assert.ok(!/hunter2|hun|ter2/.test(reasonOf(outcome)), reasonOf(outcome));
    }
  },
});

Deno.test({
  name: "runRedis() fails at once when the signal is already aborted",
  permissions: "none",
  async fn() {
    const controller = new AbortController();
    controller.abort(new Error("shutdown"));
    const outcome = await runRedis(
      redis(`redis://${BROKER_HOST}:1`, "SET", "k"),
      testExecution("job.aborted", controller.signal),
    );
    assert.equal(outcome.ok, false);
    assert.match(reasonOf(outcome), /aborted: shutdown/);
  },
});

Deno.test("runRedis() fails quickly when aborted mid-way", async () => {
  await using server = startSilentServer();
  const controller = new AbortController();
  const started = performance.now();
  const running = runRedis(
    redis(`redis://${BROKER_HOST}:${server.port}`, "SET", "k"),
    testExecution("job.abort", controller.signal),
  );
  await server.accepted;
  controller.abort(new Error("execution timeout"));
  const outcome = await running;
  assert.equal(outcome.ok, false);
  assert.match(reasonOf(outcome), /aborted: execution timeout/);
  assert.ok(performance.now() - started < 2_000);
});

Deno.test("runRedis() fails when the exchange exceeds its limit", async () => {
  await using server = startSilentServer();
  const outcome = await runRedis(
    redis(`redis://${BROKER_HOST}:${server.port}`, "SET", "k"),
    testExecution("job.slow"),
    { limitMs: 100 },
  );
  assert.equal(outcome.ok, false);
  assert.match(reasonOf(outcome), /no completion within 100 ms/);
});

Deno.test("runRedis() fails when the server closes the connection early", async () => {
  const listener = Deno.listen({ hostname: BROKER_HOST, port: 0 });
  const closer = (async () => {
    const conn = await listener.accept();
    conn.close();
  })();
  const outcome = await runRedis(
    redis(
      `redis://${BROKER_HOST}:${(listener.addr as Deno.NetAddr).port}`,
      "SET",
      "k",
    ),
    testExecution("job.closed"),
  );
  await closer;
  listener.close();
  assert.equal(outcome.ok, false);
  assert.match(reasonOf(outcome), /closed early|reset|broken pipe/i);
});
