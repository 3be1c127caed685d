/**
 * The redis and amqp runners end to end: a daemon (subprocess, log level
 * debug) fires jobs whose rules point at the real Redis and RabbitMQ; each
 * job's final status is read back with GET, the broker side is checked with
 * real consumers, and the whole daemon log is searched for the passwords
 * (spec: runners.md §7–§9).
 */
import assert from "node:assert/strict";
import { type Channel, connect } from "npm:amqplib@2.3.1";
import { converse, waitFor } from "../_helpers/client.ts";
import {
  AMQP_PORT,
  BROKER_HOST,
  freePort,
  rabbitGate,
  REDIS_PORT,
  redisCli,
  redisGate,
  startRedisServer,
  uniqueName,
} from "../_helpers/brokers.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";

const redis = await redisGate();
const rabbit = await rabbitGate();
const PASSWORD = "pw-top:secret@1";
const ALICE_PASSWORD = "pw-alice/p@ss";
const WRONG_PASSWORD = "pw-wrong-guess";
const AMQP_BAD_PASSWORD = "pw-not-guest";

async function withDaemon(
  fn: (daemon: DaemonProcess) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ztick-brokers-" });
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(
    config,
    `[log]\nlevel = "debug"\n[controller]\nlisten = "127.0.0.1:0"\n[database]\nlogfile_path = "${dir}/logfile"\nfsync_on_persist = false\n`,
  );
  const daemon = await DaemonProcess.start(config);
  try {
    await fn(daemon);
  } finally {
    await daemon.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
}

/** Sends rules, then one due job per rule, and returns the final statuses. */
async function fire(
  daemon: DaemonProcess,
  rules: Record<string, string>,
): Promise<Record<string, string>> {
  let requests = "";
  for (const [job, runner] of Object.entries(rules)) {
    requests += `r RULE SET rule.${job} ${job} ${runner}\n`;
  }
  const now = BigInt(Date.now()) * 1_000_000n;
  for (const job of Object.keys(rules)) requests += `s SET ${job} ${now}\n`;
  const answers = await converse(daemon.port, requests);
  assert.equal(
    answers,
    "r OK\n".repeat(Object.keys(rules).length) +
      "s OK\n".repeat(Object.keys(rules).length),
  );
  const statuses: Record<string, string> = {};
  for (const job of Object.keys(rules)) {
    statuses[job] = await waitFor(async () => {
      const answer = await converse(daemon.port, `g GET ${job}\n`);
      const status = answer.split(" ")[2];
      return status === "executed" || status === "failed" ? status : undefined;
    }, { what: `${job} to finish`, timeoutMs: 20_000 });
  }
  return statuses;
}

function assertNoSecrets(log: string, secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(!log.includes(secret), `the log contains "${secret}"`);
    assert.ok(
      !log.includes(encodeURIComponent(secret)),
      `the log contains "${encodeURIComponent(secret)}"`,
    );
  }
}

/** A raw SUBSCRIBE connection to the shared Redis. */
async function subscribe(channel: string) {
  const conn = await Deno.connect({ hostname: BROKER_HOST, port: REDIS_PORT });
  const decoder = new TextDecoder();
  let seen = "";
  const read = async (needle: string) => {
    const buffer = new Uint8Array(4096);
    while (!seen.includes(needle)) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("subscriber closed");
      seen += decoder.decode(buffer.subarray(0, n));
    }
  };
  await conn.write(new TextEncoder().encode(`SUBSCRIBE ${channel}\r\n`));
  await read("subscribe");
  return { read, [Symbol.dispose]: () => conn.close() };
}

Deno.test({
  name:
    `redis rules end to end: commands, AUTH, SELECT, failures; no password in the log${redis.suffix}`,
  ignore: redis.ignore,
  async fn() {
    await using secured = await startRedisServer([
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
    const key = uniqueName("key");
    const channel = uniqueName("channel");
    const url = `redis://${BROKER_HOST}:${REDIS_PORT}`;
    const securedUrl = `${BROKER_HOST}:${secured.port}`;
    using subscriber = await subscribe(channel);
    await withDaemon(async (daemon) => {
      assert.equal(
        await converse(
          daemon.port,
          `x RULE SET rule.tls tls. redis rediss://${BROKER_HOST} SET k\n`,
        ),
        "x ERROR\n",
      );
      const statuses = await fire(daemon, {
        "rpush.": `redis ${url} RPUSH ${key}.list`,
        "lpush.": `redis ${url} LPUSH ${key}.left`,
        "set.": `redis ${url}/0 SET ${key}.string`,
        "pub.": `redis ${url} PUBLISH ${channel}`,
        "nosub.": `redis ${url} PUBLISH ${channel}.nobody`,
        "auth.": `redis "redis://:${
          encodeURIComponent(PASSWORD)
        }@${securedUrl}" RPUSH ${key}.auth`,
        "acl.": `redis "redis://alice:${
          encodeURIComponent(ALICE_PASSWORD)
        }@${securedUrl}/3" RPUSH ${key}.acl`,
        "wrong.":
          `redis "redis://:${WRONG_PASSWORD}@${securedUrl}" RPUSH ${key}.wrong`,
        "refused.":
          `redis redis://${BROKER_HOST}:${freePort()} RPUSH ${key}.refused`,
        "select.": `redis ${url}/3 SET ${key}.db3`,
      });
      assert.deepEqual(statuses, {
        "rpush.": "executed",
        "lpush.": "executed",
        "set.": "executed",
        "pub.": "executed",
        "nosub.": "executed",
        "auth.": "executed",
        "acl.": "executed",
        "wrong.": "failed",
        "refused.": "failed",
        "select.": "executed",
      });
      assert.equal(
        await redisCli(["LRANGE", `${key}.list`, "0", "-1"]),
        "rpush.",
      );
      assert.equal(
        await redisCli(["LRANGE", `${key}.left`, "0", "-1"]),
        "lpush.",
      );
      assert.equal(await redisCli(["GET", `${key}.string`]), "set.");
      await subscriber.read("pub.");
      assert.equal(await redisCli(["GET", `${key}.db3`], { db: 3 }), "select.");
      assert.equal(await redisCli(["EXISTS", `${key}.db3`]), "0");
      const securedCli = [
        "--user",
        "alice",
        "--pass",
        ALICE_PASSWORD,
        "--no-auth-warning",
      ];
      assert.equal(
        await redisCli([...securedCli, "LRANGE", `${key}.auth`, "0", "-1"], {
          port: secured.port,
        }),
        "auth.",
      );
      assert.equal(
        await redisCli([...securedCli, "LRANGE", `${key}.acl`, "0", "-1"], {
          port: secured.port,
          db: 3,
        }),
        "acl.",
      );
      await daemon.waitForLog(/\[WARN\] execution failed: job=wrong\. /);
      assertNoSecrets(daemon.log, [PASSWORD, ALICE_PASSWORD, WRONG_PASSWORD]);
      assert.match(
        daemon.log,
        /\[DEBUG\] execution outcome: job=rpush\. success=true/,
      );
      for (const suffix of ["list", "left", "string", "db3"]) {
        await redisCli(["DEL", `${key}.${suffix}`], {
          db: suffix === "db3" ? 3 : 0,
        });
      }
    });
  },
});

Deno.test({
  name:
    `amqp rules end to end: named and default exchange, refusals, broker down; no password in the log${rabbit.suffix}`,
  ignore: rabbit.ignore,
  async fn() {
    const admin = await connect({
      protocol: "amqp",
      hostname: BROKER_HOST,
      port: AMQP_PORT,
      username: "guest",
      password: "guest",
      vhost: "/",
      heartbeat: 0,
    });
    admin.on("error", () => {});
    const channel: Channel = await admin.createChannel();
    channel.on("error", () => {});
    const exchange = uniqueName("exchange");
    const queue = uniqueName("queue");
    const direct = uniqueName("direct");
    try {
      await channel.assertExchange(exchange, "direct", { durable: false });
      await channel.assertQueue(queue, { durable: false });
      await channel.bindQueue(queue, exchange, "job.due");
      await channel.assertQueue(direct, { durable: false });
      const dsn = `amqp://guest:guest@${BROKER_HOST}:${AMQP_PORT}/`;
      await withDaemon(async (daemon) => {
        const statuses = await fire(daemon, {
          "named.": `amqp ${dsn} ${exchange} job.due`,
          "default.": `amqp ${dsn} "" ${direct}`,
          "badcred.":
            `amqp amqp://guest:${AMQP_BAD_PASSWORD}@${BROKER_HOST}:${AMQP_PORT}/ ${exchange} job.due`,
          "vhost.":
            `amqp amqp://guest:guest@${BROKER_HOST}:${AMQP_PORT}/no-such-vhost ${exchange} job.due`,
          "noexchange.": `amqp ${dsn} ${exchange}.missing job.due`,
          "down.":
            `amqp amqp://guest:guest@${BROKER_HOST}:${freePort()}/ ${exchange} job.due`,
          "baddsn.":
            `amqp amqps://guest:guest@${BROKER_HOST}/ ${exchange} job.due`,
        });
        assert.deepEqual(statuses, {
          "named.": "executed",
          "default.": "executed",
          "badcred.": "failed",
          "vhost.": "failed",
          "noexchange.": "failed",
          "down.": "failed",
          "baddsn.": "failed",
        });
        const named = await waitFor(async () =>
          (await channel.get(queue, { noAck: true })) || undefined
        );
        assert.equal(new TextDecoder().decode(named.content), "named.");
        const viaDefault = await waitFor(async () =>
          (await channel.get(direct, { noAck: true })) || undefined
        );
        assert.equal(new TextDecoder().decode(viaDefault.content), "default.");
        assertNoSecrets(daemon.log, [AMQP_BAD_PASSWORD]);
        assert.ok(
          !daemon.log.includes("guest:guest@"),
          "DSN credentials are redacted",
        );
        assert.match(
          daemon.log,
          /\[WARN\] execution failed: job=noexchange\. rule=rule\.noexchange\. runner=amqp detail=error: /,
        );
      });
    } finally {
      await channel.deleteQueue(queue);
      await channel.deleteQueue(direct);
      await channel.deleteExchange(exchange);
      await admin.close();
    }
  },
});
