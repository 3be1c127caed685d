import assert from "node:assert/strict";
// Test-only dependency: an independent AMQP client to declare, bind and read
// back what the runner published.
import { type Channel, connect } from "npm:amqplib@2.3.1";
import {
  type AmqpRunner,
  parseAmqpDsn,
  runAmqp,
} from "../../../src/runners/amqp.ts";
import {
  AMQP_PORT,
  BROKER_HOST,
  freePort,
  gatedTest,
  rabbitGate,
  startSilentServer,
  testExecution,
  uniqueName,
} from "../../_helpers/brokers.ts";

const gate = await rabbitGate();
const DSN = `amqp://guest:guest@${BROKER_HOST}:${AMQP_PORT}/`;

function amqp(dsn: string, exchange: string, routingKey: string): AmqpRunner {
  return { kind: "amqp", dsn, exchange, routingKey };
}

/** A guest connection and channel of amqplib, closed on dispose. */
async function openAdmin(): Promise<{ channel: Channel } & AsyncDisposable> {
  const model = await connect({
    protocol: "amqp",
    hostname: BROKER_HOST,
    port: AMQP_PORT,
    username: "guest",
    password: "guest",
    vhost: "/",
    heartbeat: 0,
  });
  // amqplib crashes the process on an "error" event nobody listens to.
  model.on("error", () => {});
  const channel = await model.createChannel();
  channel.on("error", () => {});
  return { channel, [Symbol.asyncDispose]: () => model.close() };
}

/** Declares a queue bound to a fresh direct exchange under `routingKey`. */
async function declareRoute(channel: Channel, routingKey: string) {
  const exchange = uniqueName("exchange");
  const queue = uniqueName("queue");
  await channel.assertExchange(exchange, "direct", { durable: false });
  await channel.assertQueue(queue, { durable: false, exclusive: true });
  await channel.bindQueue(queue, exchange, routingKey);
  return {
    exchange,
    queue,
    async [Symbol.asyncDispose]() {
      await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
    },
  };
}

/** Reads the next message body of a queue, waiting up to 2 s for it. */
async function nextBody(channel: Channel, queue: string): Promise<string> {
  for (const deadline = Date.now() + 2_000; Date.now() < deadline;) {
    const message = await channel.get(queue, { noAck: true });
    if (message) return new TextDecoder().decode(message.content);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no message in queue ${queue}`);
}

function reasonOf(outcome: { ok: boolean; reason?: string }): string {
  return outcome.reason ?? "";
}

// --- DSN parsing (spec: runners.md §7) -------------------------------------

Deno.test({
  name: "parseAmqpDsn() applies defaults and decodes userinfo and vhost",
  permissions: "none",
  fn() {
    const base = { host: "mq", port: 5672, password: "", vhost: "/" };
    const table: [string, ReturnType<typeof parseAmqpDsn>][] = [
      ["amqp://u@mq", { ...base, user: "u" }],
      ["amqp://u@mq/", { ...base, user: "u" }],
      ["amqp://u:@mq", { ...base, user: "u" }],
      ["amqp://:@mq", { ...base, user: "" }],
      ["amqp://u:p@mq:0", { ...base, user: "u", password: "p", port: 0 }],
      ["amqp://u:p@mq:65535/", {
        ...base,
        user: "u",
        password: "p",
        port: 65535,
      }],
      ["amqp://u@mq/%2F", { ...base, user: "u" }],
      ["amqp://u@mq/jobs", { ...base, user: "u", vhost: "jobs" }],
      ["amqp://u@mq/%2Fjobs%20x", { ...base, user: "u", vhost: "/jobs x" }],
      ["amqp://u@mq/a/b", { ...base, user: "u", vhost: "a/b" }],
      ["amqp://u@[::1]", { ...base, user: "u", host: "::1" }],
      ["amqp://u@[::1]:5673/v", {
        ...base,
        user: "u",
        host: "::1",
        port: 5673,
        vhost: "v",
      }],
      [
        "amqp://a%3Ab:p%40ss%2F@mq",
        { ...base, user: "a:b", password: "p@ss/" },
      ],
      [
        "amqp://u:p@ss:w@rd@mq", // last @ ends the userinfo, first : splits
        { ...base, user: "u", password: "p@ss:w@rd" },
      ],
    ];
    for (const [dsn, expected] of table) {
      assert.deepEqual(parseAmqpDsn(dsn), expected, dsn);
    }
  },
});

Deno.test({
  name: "parseAmqpDsn() throws SyntaxError on a bad DSN, without secrets",
  permissions: "none",
  fn() {
    const bad = [
      "amqps://u:secret@mq/",
      "AMQP://u:secret@mq/",
      "redis://u:secret@mq/",
      "amqp:/u:secret@mq",
      "amqp://mq:5672/",
      "amqp://mq/u:secret@x", // the @ after the first / is not userinfo
      "amqp://u:secret@",
      "amqp://u:secret@/vhost",
      "amqp://u:secret@:5672",
      "amqp://u:secret@mq:",
      "amqp://u:secret@mq:65536",
      "amqp://u:secret@mq:-1",
      "amqp://u:secret@mq:5672x",
      "amqp://u:secret@::1",
      "amqp://u:secret@[::1",
      "amqp://u:secret@[]:5672",
      "amqp://u:secret@[::1]5672",
      "amqp://u:secret%zz@mq",
      "amqp://u:secret@mq/%zz",
      "amqp://u:sec/ret@mq", // a raw "/" ends the authority early
    ];
    for (const dsn of bad) {
      assert.throws(
        () => parseAmqpDsn(dsn),
        (error: unknown) =>
          error instanceof SyntaxError && !/secret|sec|ret/.test(error.message),
        dsn,
      );
    }
  },
});

// --- Against the broker -----------------------------------------------------

gatedTest(
  gate,
  "runAmqp() publishes the job id to an exchange with the routing key",
  async () => {
    await using admin = await openAdmin();
    await using route = await declareRoute(admin.channel, "job.due");
    const outcome = await runAmqp(
      amqp(DSN, route.exchange, "job.due"),
      testExecution("job.amqp.1"),
    );
    assert.deepEqual(outcome, { ok: true, detail: "ok" });
    assert.equal(await nextBody(admin.channel, route.queue), "job.amqp.1");
  },
);

gatedTest(
  gate,
  "runAmqp() publishes through the default exchange to the named queue",
  async () => {
    await using admin = await openAdmin();
    const queue = uniqueName("default");
    await admin.channel.assertQueue(queue, { durable: false, exclusive: true });
    try {
      const outcome = await runAmqp(
        amqp(`amqp://guest:guest@${BROKER_HOST}/%2F`, "", queue),
        testExecution("job.amqp.ünïcödé"),
      );
      assert.deepEqual(outcome, { ok: true, detail: "ok" });
      assert.equal(await nextBody(admin.channel, queue), "job.amqp.ünïcödé");
    } finally {
      await admin.channel.deleteQueue(queue);
    }
  },
);

gatedTest(
  gate,
  "runAmqp() splits a body larger than a frame into body frames",
  async () => {
    await using admin = await openAdmin();
    await using route = await declareRoute(admin.channel, "big");
    const jobId = "job.big." + "x".repeat(300_000);
    const outcome = await runAmqp(
      amqp(DSN, route.exchange, "big"),
      testExecution(jobId),
    );
    assert.deepEqual(outcome, { ok: true, detail: "ok" });
    assert.equal(await nextBody(admin.channel, route.queue), jobId);
  },
);

gatedTest(
  gate,
  "runAmqp() succeeds when the message reaches no queue",
  async () => {
    const outcome = await runAmqp(
      amqp(DSN, "amq.direct", uniqueName("unrouted")),
      testExecution("job.amqp.unrouted"),
    );
    assert.deepEqual(outcome, { ok: true, detail: "ok" });
  },
);

gatedTest(
  gate,
  "runAmqp() fails when the exchange does not exist",
  async () => {
    const exchange = uniqueName("missing");
    const outcome = await runAmqp(
      amqp(DSN, exchange, "rk"),
      testExecution("job.amqp.missing"),
    );
    assert.equal(outcome.ok, false);
    assert.match(reasonOf(outcome), /broker closed the channel: 404 NOT_FOUND/);
    assert.ok(!reasonOf(outcome).includes("guest:guest"));
  },
);

gatedTest(
  gate,
  "runAmqp() fails on bad credentials without revealing them",
  async () => {
    const outcome = await runAmqp(
      amqp(
        `amqp://guest:wrong-pass-42@${BROKER_HOST}:${AMQP_PORT}/`,
        "amq.direct",
        "rk",
      ),
      testExecution("job.amqp.creds"),
    );
    assert.equal(outcome.ok, false);
    assert.match(reasonOf(outcome), /during login/);
    assert.ok(!reasonOf(outcome).includes("wrong-pass-42"), reasonOf(outcome));
  },
);

gatedTest(gate, "runAmqp() fails on an unknown vhost", async () => {
  const vhost = uniqueName("vhost");
  const outcome = await runAmqp(
    amqp(`${DSN}${encodeURIComponent(vhost)}`, "amq.direct", "rk"),
    testExecution("job.amqp.vhost"),
  );
  assert.equal(outcome.ok, false);
  assert.match(
    reasonOf(outcome),
    /broker closed the connection: 530 NOT_ALLOWED/,
  );
  assert.ok(!reasonOf(outcome).includes("guest:guest"));
});

// --- Failures that need no broker -------------------------------------------

Deno.test("runAmqp() fails when no broker listens", async () => {
  const outcome = await runAmqp(
    amqp(`amqp://guest:hunter2@${BROKER_HOST}:${freePort()}/`, "x", "rk"),
    testExecution("job.amqp.down"),
  );
  assert.equal(outcome.ok, false);
  assert.match(reasonOf(outcome), /refused/i);
  assert.ok(!reasonOf(outcome).includes("hunter2"));
});

Deno.test("runAmqp() fails when the server answers another protocol version", async () => {
  // What a broker sends back when it does not support 0-9-1, then it closes.
  const listener = Deno.listen({ hostname: BROKER_HOST, port: 0 });
  const answering = (async () => {
    using conn = await listener.accept();
    await conn.write(new Uint8Array([65, 77, 81, 80, 0, 1, 0, 0]));
  })();
  const { port } = listener.addr as Deno.NetAddr;
  const outcome = await runAmqp(
    amqp(`amqp://guest:guest@${BROKER_HOST}:${port}/`, "x", "rk"),
    testExecution("job.amqp.version"),
  );
  await answering;
  listener.close();
  assert.equal(outcome.ok, false);
  assert.match(
    reasonOf(outcome),
    /does not speak AMQP 0-9-1 \(during handshake\)/,
  );
});

Deno.test({
  name: "runAmqp() fails on an exchange or routing key over 255 bytes",
  permissions: "none", // refused before any connection
  async fn() {
    const long = "é".repeat(128); // 256 bytes in 128 characters
    for (
      const runner of [
        amqp(DSN, long, "rk"),
        amqp(DSN, "x", long),
        amqp(`${DSN}${"v".repeat(256)}`, "x", "rk"),
      ]
    ) {
      const outcome = await runAmqp(runner, testExecution("job.amqp.long"));
      assert.equal(outcome.ok, false);
      assert.match(reasonOf(outcome), /exceeds 255 bytes/);
    }
  },
});

Deno.test({
  name: "runAmqp() fails on a malformed DSN without revealing the password",
  permissions: "none",
  async fn() {
    for (const dsn of ["amqps://u:hunter2@mq/", "amqp://u:hun/ter2@mq"]) {
      const outcome = await runAmqp(
        amqp(dsn, "x", "rk"),
        testExecution("job.bad"),
      );
      assert.equal(outcome.ok, false, dsn);
      assert.match(reasonOf(outcome), /^Cannot parse amqp DSN: /);
      assert.ok(!/hunter2|hun|ter2/.test(reasonOf(outcome)), reasonOf(outcome));
    }
  },
});

Deno.test({
  name: "runAmqp() fails at once when the signal is already aborted",
  permissions: "none",
  async fn() {
    const controller = new AbortController();
    controller.abort(new Error("shutdown"));
    const outcome = await runAmqp(
      amqp(`amqp://u@${BROKER_HOST}:1/`, "x", "rk"),
      testExecution("job.aborted", controller.signal),
    );
    assert.equal(outcome.ok, false);
    assert.match(reasonOf(outcome), /aborted: shutdown/);
  },
});

Deno.test("runAmqp() fails quickly when aborted mid-way", async () => {
  await using server = startSilentServer();
  const controller = new AbortController();
  const started = performance.now();
  const running = runAmqp(
    amqp(`amqp://guest:guest@${BROKER_HOST}:${server.port}/`, "x", "rk"),
    testExecution("job.abort", controller.signal),
  );
  await server.accepted;
  controller.abort(new Error("execution timeout"));
  const outcome = await running;
  assert.equal(outcome.ok, false);
  assert.match(
    reasonOf(outcome),
    /aborted: execution timeout \(during handshake\)/,
  );
  assert.ok(performance.now() - started < 2_000);
});

Deno.test("runAmqp() fails when the exchange exceeds its limit", async () => {
  await using server = startSilentServer();
  const outcome = await runAmqp(
    amqp(`amqp://guest:guest@${BROKER_HOST}:${server.port}/`, "x", "rk"),
    testExecution("job.slow"),
    { limitMs: 100 },
  );
  assert.equal(outcome.ok, false);
  assert.match(reasonOf(outcome), /no completion within 100 ms/);
});
