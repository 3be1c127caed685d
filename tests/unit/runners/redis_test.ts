import assert from "node:assert/strict";
import { parseRedisUrl, runRedis } from "../../../src/runners/redis.ts";
import {
  BROKER_HOST,
  gatedTest,
  REDIS_PORT,
  redisCli,
  testExecution,
  uniqueName,
} from "../../_helpers/brokers.ts";
import {
  gate,
  PASSWORD,
  readUntil,
  reasonOf,
  redis,
  REDIS_URL,
} from "./_redis.ts";

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
        redis(REDIS_URL, "RPUSH", key),
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
        redis(REDIS_URL, "LPUSH", key),
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
      redis(REDIS_URL, "SET", key),
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
    redis(REDIS_URL, "PUBLISH", channel),
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
      redis(REDIS_URL, "PUBLISH", uniqueName("nobody")),
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
        redis(`${REDIS_URL}/3`, "RPUSH", key),
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
        redis(REDIS_URL, "RPUSH", key),
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
