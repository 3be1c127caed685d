import assert from "node:assert/strict";
import {
  parseRedisUrl,
  type RedisRunner,
  runRedis,
} from "../../../src/runners/redis.ts";
import {
  BROKER_HOST,
  freePort,
  gatedTest,
  REDIS_PORT,
  redisCli,
  redisGate,
  startRedisServer,
  startSilentServer,
  testExecution,
  uniqueName,
} from "../../_helpers/brokers.ts";

const gate = await redisGate();
const URL = `redis://${BROKER_HOST}:${REDIS_PORT}`;
const PASSWORD = "top:secret@1";
const ALICE_PASSWORD = "p@ss:w/rd";

function redis(
  url: string,
  command: RedisRunner["command"],
  key: string,
): RedisRunner {
  return { kind: "redis", url, command, key };
}

/** Starts a server with a default-user password and an ACL user alice. */
function startSecuredServer() {
  return startRedisServer([
    "--requirepass",
    PASSWORD,
    "--user",
    "alice",
    "on",
    `>${ALICE_PASSWORD}`,
    "~*",
    "&*",
    "+@all",
  ]);
}

// --- URL parsing (spec: runners.md §8) -------------------------------------

Deno.test({
  name: "parseRedisUrl() applies defaults and decodes userinfo",
  permissions: "none",
  fn() {
    const table: [string, ReturnType<typeof parseRedisUrl>][] = [
      ["redis://cache", { host: "cache", port: 6379, db: 0 }],
      ["redis://cache/", { host: "cache", port: 6379, db: 0 }],
      ["redis://cache:6380/255", { host: "cache", port: 6380, db: 255 }],
      ["redis://cache:0/0", { host: "cache", port: 0, db: 0 }],
      ["redis://[::1]:7000/2", { host: "::1", port: 7000, db: 2 }],
      ["redis://[::1]", { host: "::1", port: 6379, db: 0 }],
      ["redis://:pw@h", { host: "h", port: 6379, db: 0, password: "pw" }],
      ["redis://u@h", { host: "h", port: 6379, db: 0, user: "u" }],
      ["redis://u:@h", { host: "h", port: 6379, db: 0, user: "u" }],
      ["redis://:@h", { host: "h", port: 6379, db: 0 }],
      ["redis://@h", { host: "h", port: 6379, db: 0 }],
      [
        "redis://a%20b:p%40ss%3A%2F@h",
        { host: "h", port: 6379, db: 0, user: "a b", password: "p@ss:/" },
      ],
      [
        "redis://u:p@ss:w@h:1/1", // last @ ends the userinfo, first : splits
        { host: "h", port: 1, db: 1, user: "u", password: "p@ss:w" },
      ],
    ];
    for (const [url, expected] of table) {
      assert.deepEqual(parseRedisUrl(url), expected, url);
    }
  },
});

Deno.test({
  name: "parseRedisUrl() throws SyntaxError on a bad URL, without secrets",
  permissions: "none",
  fn() {
    const bad = [
      "rediss://cache",
      "http://cache",
      "redis://",
      "redis:///3",
      "redis://:secret@",
      "redis://:secret@:6379",
      "redis://cache:",
      "redis://cache:65536",
      "redis://cache:-1",
      "redis://cache:6379x",
      "redis://cache:+1",
      "redis://cache/256",
      "redis://cache/-1",
      "redis://cache/1.0",
      "redis://cache/ 1",
      "redis://cache/1/2",
      "redis://[::1",
      "redis://[]:6379",
      "redis://[::1]x",
      "redis://::1",
      "redis://u:secret%zz@cache",
      "redis://u:se/cret@cache", // a raw "/" ends the authority early
    ];
    for (const url of bad) {
      assert.throws(
        () => parseRedisUrl(url),
        (error: unknown) =>
          error instanceof SyntaxError && !error.message.includes("secret"),
        url,
      );
    }
  },
});

// --- Against the shared server ----------------------------------------------

gatedTest(
  gate,
  "runRedis() RPUSHes the job id to the end of the list",
  async () => {
    const key = uniqueName("rpush");
    try {
      await redisCli(["RPUSH", key, "first"]);
      const outcome = await runRedis(
        redis(URL, "RPUSH", key),
        testExecution("job.rpush.1"),
      );
      assert.deepEqual(outcome, { ok: true, detail: "ok" });
      assert.equal(
        await redisCli(["LRANGE", key, "0", "-1"]),
        "first\njob.rpush.1",
      );
    } finally {
      await redisCli(["DEL", key]);
    }
  },
);

gatedTest(
  gate,
  "runRedis() LPUSHes the job id to the head of the list",
  async () => {
    const key = uniqueName("lpush");
    try {
      await redisCli(["RPUSH", key, "first"]);
      const outcome = await runRedis(
        redis(URL, "LPUSH", key),
        testExecution("job.lpush.1"),
      );
      assert.deepEqual(outcome, { ok: true, detail: "ok" });
      assert.equal(
        await redisCli(["LRANGE", key, "0", "-1"]),
        "job.lpush.1\nfirst",
      );
    } finally {
      await redisCli(["DEL", key]);
    }
  },
);

gatedTest(gate, "runRedis() SETs the key to the job id", async () => {
  const key = uniqueName("set");
  const jobId = "job.set.ünïcödé 1"; // multi-byte: bulk lengths are bytes
  try {
    const outcome = await runRedis(
      redis(URL, "SET", key),
      testExecution(jobId),
    );
    assert.deepEqual(outcome, { ok: true, detail: "ok" });
    assert.equal(await redisCli(["GET", key]), jobId);
  } finally {
    await redisCli(["DEL", key]);
  }
});

gatedTest(gate, "runRedis() PUBLISHes the job id to a subscriber", async () => {
  const channel = uniqueName("publish");
  const jobId = "job.publish.1";
  using subscriber = await Deno.connect({
    hostname: BROKER_HOST,
    port: REDIS_PORT,
  });
  const received = readUntil(subscriber);
  await subscriber.write(
    new TextEncoder().encode(`SUBSCRIBE ${channel}\r\n`),
  );
  await received.until(`${channel}\r\n:1\r\n`); // subscription confirmed
  const outcome = await runRedis(
    redis(URL, "PUBLISH", channel),
    testExecution(jobId),
  );
  assert.deepEqual(outcome, { ok: true, detail: "ok" });
  const text = await received.until(`$${jobId.length}\r\n${jobId}\r\n`);
  assert.ok(text.includes(`message\r\n$${channel.length}\r\n${channel}\r\n`));
});

gatedTest(
  gate,
  "runRedis() succeeds when PUBLISH reaches no subscriber",
  async () => {
    const outcome = await runRedis(
      redis(URL, "PUBLISH", uniqueName("nobody")),
      testExecution("job.publish.2"),
    );
    assert.deepEqual(outcome, { ok: true, detail: "ok" });
  },
);

gatedTest(
  gate,
  "runRedis() SELECTs the URL's db before the command",
  async () => {
    const key = uniqueName("select");
    try {
      const outcome = await runRedis(
        redis(`${URL}/3`, "RPUSH", key),
        testExecution("job.select.3"),
      );
      assert.deepEqual(outcome, { ok: true, detail: "ok" });
      assert.equal(
        await redisCli(["LRANGE", key, "0", "-1"], { db: 3 }),
        "job.select.3",
      );
      assert.equal(await redisCli(["EXISTS", key], { db: 0 }), "0");
    } finally {
      await redisCli(["DEL", key], { db: 3 });
    }
  },
);

gatedTest(
  gate,
  "runRedis() fails on an error reply to the command",
  async () => {
    const key = uniqueName("wrongtype");
    try {
      await redisCli(["SET", key, "a string"]);
      const outcome = await runRedis(
        redis(URL, "RPUSH", key),
        testExecution("job.wrongtype"),
      );
      assert.equal(outcome.ok, false);
      assert.match(reasonOf(outcome), /RPUSH answered -WRONGTYPE/);
    } finally {
      await redisCli(["DEL", key]);
    }
  },
);

gatedTest(
  gate,
  "runRedis() fails when AUTH is sent to a server without password",
  async () => {
    const outcome = await runRedis(
      redis(
        `redis://:${PASSWORD}@${BROKER_HOST}:${REDIS_PORT}`,
        "SET",
        uniqueName("x"),
      ),
      testExecution("job.auth.none"),
    );
    assert.equal(outcome.ok, false);
    assert.ok(!reasonOf(outcome).includes(PASSWORD), reasonOf(outcome));
  },
);

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

function reasonOf(outcome: { ok: boolean; reason?: string }): string {
  return outcome.reason ?? "";
}

/** Collects what a connection receives until a marker shows up (2 s max). */
function readUntil(conn: Deno.Conn) {
  let text = "";
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(4096);
  return {
    async until(marker: string): Promise<string> {
      const deadline = Date.now() + 2_000;
      while (!text.includes(marker)) {
        if (Date.now() > deadline) throw new Error(`never received ${marker}`);
        const read = await conn.read(buffer);
        if (read === null) throw new Error("subscriber connection closed");
        text += decoder.decode(buffer.subarray(0, read), { stream: true });
      }
      return text;
    },
  };
}
