/** protocol.md §10, every row that does not involve AUTH, and the line-length and framing limits, sent as bytes to a real daemon. */
import assert from "node:assert/strict";
import { converse } from "../_helpers/client.ts";
import { daemon } from "./_protocol.ts";

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
