/**
 * Every example of protocol.md and every non-auth row of its §10 table,
 * sent as bytes to a real daemon; the answers are checked byte for byte.
 */
import assert from "node:assert/strict";
import { converse } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { ManualClock } from "../_helpers/doubles.ts";

// 2026-01-01 00:00:00 UTC: the spec's examples (April 2026) lie ahead.
const BEFORE_EXAMPLES = 1_767_225_600_000_000_000n;

function daemon() {
  return startTestDaemon({
    persistence: "memory",
    clock: new ManualClock(BEFORE_EXAMPLES),
  });
}

/** Sends the lines, half-closes, and returns every answer byte. */
async function talk(port: number, ...lines: string[]): Promise<string> {
  return await converse(port, lines.map((line) => `${line}\n`).join(""));
}

function sortedLines(text: string): string[] {
  return text.split("\n").sort();
}

Deno.test("SET examples are answered OK (protocol.md §6)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      "r1 SET backup.daily 2026-04-01 02:00:00",
      "r2 SET my.job 1775053800000000000",
    ),
    "r1 OK\nr2 OK\n",
  );
});

Deno.test("GET examples (protocol.md §6)", async () => {
  await using d = await daemon();
  await talk(d.port, "r0 SET backup.daily 2026-04-01 02:00:00");
  assert.equal(
    await talk(d.port, "r1 GET backup.daily", "r2 GET no.such.job"),
    "r1 OK planned 1775008800000000000\nr2 ERROR\n",
  );
});

Deno.test("QUERY example lists the matching jobs in any order (protocol.md §6)", async () => {
  await using d = await daemon();
  await talk(
    d.port,
    "a SET backup.daily 2026-04-01 02:00:00",
    "b SET backup.weekly 2026-04-08 02:00:00",
    "c SET other.job 2026-04-08 02:00:00",
  );
  const answer = await talk(d.port, "r1 QUERY backup.");
  assert.ok(answer.endsWith("r1 OK\n"));
  assert.deepEqual(sortedLines(answer), [
    "",
    "r1 OK",
    "r1 backup.daily planned 1775008800000000000",
    "r1 backup.weekly planned 1775613600000000000",
  ]);
  assert.equal(await talk(d.port, "r2 QUERY nothing."), "r2 OK\n");
  assert.equal((await talk(d.port, "r3 QUERY")).split("\n").length, 5);
  assert.equal((await talk(d.port, 'r4 QUERY ""')).split("\n").length, 5);
});

Deno.test("REMOVE deletes a job once (protocol.md §6)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      "r0 SET backup.daily 2026-04-01 02:00:00",
      "r1 REMOVE backup.daily",
      "r2 REMOVE backup.daily",
      "r3 GET backup.daily",
    ),
    "r0 OK\nr1 OK\nr2 ERROR\nr3 ERROR\n",
  );
});

const RULE_EXAMPLES = [
  "r1 RULE SET rule.backup backup. shell /usr/local/bin/backup.sh",
  'r2 RULE SET rule.cache cache. shell "find /var/cache/app -mtime +7 -delete"',
  "r3 RULE SET rule.ping ping. direct /usr/bin/ping -c 1 10.0.0.1",
  "r4 RULE SET rule.hook deploy. http POST https://ci.example.org/hooks/deploy",
  "r5 RULE SET rule.review review. awf nightly-review --input branch=main --input depth=2",
  "r6 RULE SET rule.events events. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
  "r7 RULE SET rule.queue queue. redis redis://cache.internal:6379/2 RPUSH queue:due",
  "r8 RULE SET rule.bad app. awf",
];

Deno.test("RULE SET examples (protocol.md §6)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(d.port, ...RULE_EXAMPLES),
    "r1 OK\nr2 OK\nr3 OK\nr4 OK\nr5 OK\nr6 OK\nr7 OK\nr8 ERROR\n",
  );
});

Deno.test("LISTRULES example renders values raw (protocol.md §6)", async () => {
  await using d = await daemon();
  await talk(d.port, RULE_EXAMPLES[0]!, RULE_EXAMPLES[1]!, RULE_EXAMPLES[4]!);
  const answer = await talk(d.port, "r9 LISTRULES");
  assert.ok(answer.endsWith("r9 OK\n"));
  assert.deepEqual(sortedLines(answer), [
    "",
    "r9 OK",
    "r9 rule.backup backup. shell /usr/local/bin/backup.sh",
    "r9 rule.cache cache. shell find /var/cache/app -mtime +7 -delete",
    "r9 rule.review review. awf nightly-review --input branch=main --input depth=2",
  ]);
});

Deno.test("LISTRULES renders every runner type, empty values as empty fields", async () => {
  await using d = await daemon();
  await talk(
    d.port,
    ...RULE_EXAMPLES.slice(2, 7),
    'x RULE SET rule.empty "" direct /bin/true ""',
  );
  assert.deepEqual(sortedLines(await talk(d.port, "r LISTRULES")), [
    "",
    "r OK",
    "r rule.empty  direct /bin/true ",
    "r rule.events events. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
    "r rule.hook deploy. http POST https://ci.example.org/hooks/deploy",
    "r rule.ping ping. direct /usr/bin/ping -c 1 10.0.0.1",
    "r rule.queue queue. redis redis://cache.internal:6379/2 RPUSH queue:due",
    "r rule.review review. awf nightly-review --input branch=main --input depth=2",
  ]);
  assert.equal(
    await talk(d.port, "r REMOVERULE rule.hook", "s REMOVERULE rule.hook"),
    "r OK\ns ERROR\n",
  );
  assert.equal(
    await converse(d.port, "r LISTRULES\n").then((a) =>
      a.includes("rule.hook")
    ),
    false,
  );
});

Deno.test("STAT answers the 18 keys in order, then the extension keys 19 and 21-24 (protocol.md §6)", async () => {
  await using d = await daemon();
  await talk(
    d.port,
    "a RULE SET rule.backup backup. shell /bin/true",
    "b SET x.1 2026-04-01 02:00:00",
  );
  const answer = await talk(d.port, "r1 STAT");
  const lines = answer.split("\n");
  assert.deepEqual(lines.map((line) => line.split(" ")[1]), [
    "uptime_ns",
    "connections",
    "jobs_total",
    "jobs_planned",
    "jobs_triggered",
    "jobs_executed",
    "jobs_failed",
    "rules_total",
    "executions_pending",
    "executions_inflight",
    "persistence",
    "compression",
    "auth_enabled",
    "tls_enabled",
    "framerate",
    "version",
    "execution_concurrency",
    "execution_timeout",
    "persistence_writable",
    "jobs_recurring",
    "runs_recorded",
    "retries_scheduled",
    "execution_history",
    "jobs_expired",
    "cluster_role",
    "cluster_term",
    "OK",
    undefined,
  ]);
  assert.match(lines[0]!, /^r1 uptime_ns [0-9]+$/);
  assert.deepEqual(lines.slice(1, 26), [
    "r1 connections 1",
    "r1 jobs_total 1",
    "r1 jobs_planned 1",
    "r1 jobs_triggered 0",
    "r1 jobs_executed 0",
    "r1 jobs_failed 0",
    "r1 rules_total 1",
    "r1 executions_pending 0",
    "r1 executions_inflight 0",
    "r1 persistence memory",
    "r1 compression idle",
    "r1 auth_enabled 0",
    "r1 tls_enabled 0",
    "r1 framerate 512",
    "r1 version 0.1.0",
    "r1 execution_concurrency 16",
    "r1 execution_timeout 0",
    "r1 persistence_writable 1",
    "r1 jobs_recurring 0",
    "r1 runs_recorded 0",
    "r1 retries_scheduled 0",
    "r1 execution_history 10",
    "r1 jobs_expired 0",
    "r1 cluster_role single",
    "r1 cluster_term 0",
  ]);
});

Deno.test("a batch over one connection is answered in order (protocol.md §11)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      "r1 SET job.1 2026-04-01 08:00:00",
      "r2 SET job.2 2026-04-01 09:00:00",
      "r3 SET job.3 2026-04-01 10:00:00",
    ),
    "r1 OK\nr2 OK\nr3 OK\n",
  );
});

Deno.test("pipelined requests see the effects of earlier ones (protocol.md §1)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      "a SET j 1775008800000000000",
      "b GET j",
      "c SET j 2026-04-02 08:00:00",
      "d GET j",
      "e REMOVE j",
      "f GET j",
    ),
    "a OK\nb OK planned 1775008800000000000\nc OK\nd OK planned 1775116800000000000\ne OK\nf ERROR\n",
  );
});

Deno.test("timestamps: quoted datetime, leading zeros, negative and extreme values (protocol.md §5)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      'a SET q "2026-04-01 02:00:00"',
      "b GET q",
      "c SET z 0001775008800000000000",
      "d GET z",
      "e SET max 9223372036854775807",
      "f GET max",
      "g SET dt.max 2262-04-11 23:47:16",
      "h GET dt.max",
    ),
    "a OK\nb OK planned 1775008800000000000\nc OK\nd OK planned 1775008800000000000\n" +
      "e OK\nf OK planned 9223372036854775807\ng OK\nh OK planned 9223372036000000000\n",
  );
});

Deno.test("a SET on an existing job replaces its time and keeps it planned (protocol.md §7)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      "r1 SET my.job.1 2026-04-01 08:00:00",
      "r2 SET my.job.1 2026-04-02 08:00:00",
      "r3 GET my.job.1",
      "r4 SET my.job.1 2026-04-02 08:00:00",
    ),
    "r1 OK\nr2 OK\nr3 OK planned 1775116800000000000\nr4 OK\n",
  );
});

// --- protocol.md §10, every row that does not involve AUTH ---------------

const ENCODER = new TextEncoder();
const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(
    parts.flatMap((part) =>
      typeof part === "string" ? [...ENCODER.encode(part)] : part
    ),
  );

const table: [string, string | Uint8Array, string][] = [
  [
    "empty line and spaces/tabs get no answer",
    "\n   \n\t \t\nr9 GET x\n",
    "r9 ERROR\n",
  ],
  [
    "an unclosed quoted id gets no answer",
    '"abc GET x\nr9 GET x\n',
    "r9 ERROR\n",
  ],
  ['an empty id "" gets no answer', '"" GET x\nr9 GET x\n', "r9 ERROR\n"],
  [
    "a control character in the id gets no answer",
    "r\x011 GET x\nr9 GET x\n",
    "r9 ERROR\n",
  ],
  [
    "invalid UTF-8 in the id gets no answer",
    bytes("r", [0xff], "1 GET x\nr9 GET x\n"),
    "r9 ERROR\n",
  ],
  ["`r1` alone", "r1\n", "r1 ERROR\n"],
  ["unknown instruction FOO", "r1 FOO\n", "r1 ERROR\n"],
  ["instructions are case-sensitive", "r1 set a 1\n", "r1 ERROR\n"],
  ["RULE alone", "r1 RULE\n", "r1 ERROR\n"],
  ["RULE GET", "r1 RULE GET x\n", "r1 ERROR\n"],
  ["unclosed quote after the id", 'r1 GET "x\n', "r1 ERROR\n"],
  ["control character after the id", "r1 GET x\x7f\n", "r1 ERROR\n"],
  [
    "invalid UTF-8 after the id",
    bytes("r1 GET ", [0xc3, 0x28], "\n"),
    "r1 ERROR\n",
  ],
  ["SET without identifier", "r1 SET\n", "r1 ERROR\n"],
  ["GET without identifier", "r1 GET\n", "r1 ERROR\n"],
  ["REMOVE without identifier", "r1 REMOVE\n", "r1 ERROR\n"],
  ["REMOVERULE without identifier", "r1 REMOVERULE\n", "r1 ERROR\n"],
  ["empty job identifier", 'r1 GET ""\n', "r1 ERROR\n"],
  ["empty job identifier in SET", 'r1 SET "" 1\n', "r1 ERROR\n"],
  [
    "empty rule identifier",
    'r1 RULE SET "" p shell x\nr2 REMOVERULE ""\n',
    "r1 ERROR\nr2 ERROR\n",
  ],
  ["SET without timestamp", "r1 SET a\n", "r1 ERROR\n"],
  ["SET with a non-numeric timestamp", "r1 SET a tomorrow\n", "r1 ERROR\n"],
  ["SET with a date without time", "r1 SET a 2026-04-01\n", "r1 ERROR\n"],
  ["SET with 2026-02-30", "r1 SET a 2026-02-30 00:00:00\n", "r1 ERROR\n"],
  ["SET with 24:00:00", "r1 SET a 2026-04-01 24:00:00\n", "r1 ERROR\n"],
  ["SET out of range", "r1 SET a 9223372036854775808\n", "r1 ERROR\n"],
  ["SET with a + sign", "r1 SET a +1\n", "r1 ERROR\n"],
  [
    "SET with extra tokens",
    "r1 SET a 2026-04-01 02:00:00 x\nr2 SET b 1 2\n",
    "r1 ERROR\nr2 ERROR\n",
  ],
  ["GET of an unknown job", "r1 GET nope\n", "r1 ERROR\n"],
  ["REMOVE of an unknown job", "r1 REMOVE nope\n", "r1 ERROR\n"],
  ["REMOVERULE of an unknown rule", "r1 REMOVERULE nope\n", "r1 ERROR\n"],
  ["RULE SET without rule id", "r1 RULE SET\n", "r1 ERROR\n"],
  ["RULE SET without pattern", "r1 RULE SET r\n", "r1 ERROR\n"],
  ["RULE SET without runner type", "r1 RULE SET r p\n", "r1 ERROR\n"],
  [
    "RULE SET with an unknown runner type",
    "r1 RULE SET r p cron x\n",
    "r1 ERROR\n",
  ],
  [
    "RULE SET shell with two commands",
    "r1 RULE SET r p shell a b\n",
    "r1 ERROR\n",
  ],
  [
    "RULE SET http with a bad method",
    "r1 RULE SET r p http PATCH http://x\n",
    "r1 ERROR\n",
  ],
  [
    "RULE SET redis with rediss://",
    "r1 RULE SET r p redis rediss://h SET k\n",
    "r1 ERROR\n",
  ],
  [
    "RULE SET amqp with two arguments",
    "r1 RULE SET r p amqp amqp://h e\n",
    "r1 ERROR\n",
  ],
  [
    "surplus arguments to GET, QUERY, REMOVE, REMOVERULE, LISTRULES are ignored",
    "r0 SET a 2026-04-01 02:00:00\nr0 RULE SET x p shell y\nr1 GET a extra\nr2 QUERY a extra\nr3 LISTRULES extra\n" +
    "r4 REMOVE a extra\nr5 REMOVERULE x extra\n",
    "r0 OK\nr0 OK\nr1 OK planned 1775008800000000000\nr2 a planned 1775008800000000000\nr2 OK\n" +
    "r3 x p shell y\nr3 OK\nr4 OK\nr5 OK\n",
  ],
  [
    "bytes after the last LF are discarded",
    "r1 GET nope\nr2 GET nope",
    "r1 ERROR\n",
  ],
  [
    "AUTH with authentication off is answered OK",
    "AUTH whatever\nAUTH\n",
    "OK\nOK\n",
  ],
  ["a CR before the LF is removed", "r1 GET nope\r\n", "r1 ERROR\n"],
  [
    "TAB is not a separator: it belongs to the id",
    "r1\tGET nope\n",
    "r1\tGET ERROR\n",
  ],
];

for (const [name, input, expected] of table) {
  Deno.test(`bad input: ${name} (protocol.md §10)`, async () => {
    await using d = await daemon();
    assert.equal(await converse(d.port, input), expected);
  });
}

Deno.test("bad input: STAT ignores surplus arguments (protocol.md §10)", async () => {
  await using d = await daemon();
  const answer = await converse(d.port, "r1 STAT extra words\n");
  assert.equal(answer.split("\n").length, 28);
  assert.ok(answer.endsWith("r1 OK\n"));
});

Deno.test("bad input: a line of exactly 4096 bytes is served, 4097 is not (protocol.md §2)", async () => {
  await using d = await daemon();
  const prefix = "r1 GET ";
  const exact = prefix + "x".repeat(4095 - prefix.length); // + LF = 4096 bytes
  const withCr = "r2 GET " + "x".repeat(4094 - prefix.length) + "\r"; // + LF = 4096
  const over = "r3 GET " + "x".repeat(4096 - prefix.length); // + LF = 4097
  assert.equal(
    await converse(d.port, `${exact}\n${withCr}\n${over}\nr4 GET y\n`),
    "r1 ERROR\nr2 ERROR\nr3 ERROR\nr4 ERROR\n",
  );
});

Deno.test("bad input: a line over 4096 bytes is discarded and answered when its id is readable (protocol.md §2)", async () => {
  await using d = await daemon();
  const long = "r1 SET big " + "9".repeat(10_000);
  const noId = "z".repeat(5000) + " GET x";
  const answer = await converse(
    d.port,
    `${long}\n${noId}\nr2 GET big\nr3 SET ok 1\n`,
  );
  assert.equal(answer, "r1 ERROR\nr2 ERROR\nr3 OK\n");
});

Deno.test("bad input: an over-long line split across many writes is still one line", async () => {
  await using d = await daemon();
  using client = await d.connect();
  await client.send("r1 SET x ");
  for (let i = 0; i < 20; i++) await client.send("1".repeat(1000));
  await client.send("\nr2 GET x\n");
  assert.equal(await client.readLine(), "r1 ERROR");
  assert.equal(await client.readLine(), "r2 ERROR");
});

Deno.test("half-close: every complete line is answered, then the daemon closes", async () => {
  await using d = await daemon();
  using client = await d.connect();
  await client.send("r1 SET a 1775008800000000000\nr2 GET a\nr3 GET");
  await client.closeWrite();
  assert.equal(
    await client.readAll(),
    "r1 OK\nr2 OK planned 1775008800000000000\n",
  );
});

Deno.test("answers of one request split across TCP writes arrive whole", async () => {
  await using d = await daemon();
  using client = await d.connect();
  await client.send("r1 SE");
  await client.send("T a 17750088000");
  await client.send("00000000\r");
  await client.send("\n");
  assert.equal(await client.readLine(), "r1 OK");
});
