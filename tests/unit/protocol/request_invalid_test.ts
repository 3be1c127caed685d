/** parseRequest() refuses what protocol.md §10 answers ERROR or not at all, and reads AUTH lines (§9). */
import assert from "node:assert/strict";
import { parseRequest } from "../../../src/protocol/request.ts";

/** Lines answered `r1 ERROR` (protocol.md §10), with why. */
const invalid: [line: string, what: string][] = [
  ["r1", "no instruction"],
  ["r1   ", "no instruction, trailing spaces"],
  ["r1 FOO", "unknown instruction"],
  ["r1 set a 1", "lower-case set"],
  ["r1 get a", "lower-case get"],
  ["r1 Stat", "mixed-case STAT"],
  ["r1 RULE", "RULE alone"],
  ["r1 RULE GET x", "RULE GET"],
  ["r1 RULE set r p shell x", "lower-case RULE set"],
  ["r1 REMOVE_RULE r", "misspelt REMOVERULE"],
  ["r1 SET", "SET without job id"],
  ["r1 SET a", "SET without timestamp"],
  ['r1 SET "" 1', "SET with an empty job id"],
  ["r1 SET a abc", "timestamp not a number"],
  ["r1 SET a 1.5", "decimal timestamp"],
  ["r1 SET a +1", "timestamp with +"],
  ["r1 SET a 1_000", "timestamp with _"],
  ["r1 SET a 0x10", "hexadecimal timestamp"],
  ["r1 SET a -", "minus alone"],
  ["r1 SET a 2026-02-30 00:00:00", "no such day"],
  ["r1 SET a 2025-02-29 00:00:00", "Feb 29 outside a leap year"],
  ["r1 SET a 2026-13-01 00:00:00", "month 13"],
  ["r1 SET a 2026-04-01 24:00:00", "hour 24"],
  ["r1 SET a 2026-04-01 12:60:00", "minute 60"],
  ["r1 SET a 2026-04-01 12:00:60", "second 60"],
  ["r1 SET a 2026-04-01", "date without time"],
  ["r1 SET a 2026-4-01 02:00:00", "short month"],
  ["r1 SET a 2026-04-01T02:00:00", "ISO T separator"],
  ['r1 SET a "2026-04-01  02:00:00"', "two spaces in the quoted datetime"],
  ["r1 SET a 9223372036854775808", "integer above int64"],
  ["r1 SET a -9223372036854775809", "integer below int64"],
  ["r1 SET a 2262-04-11 23:47:17", "datetime above int64"],
  ["r1 SET a 1677-09-21 00:12:43", "datetime below int64"],
  ["r1 SET a 1 2", "two integer tokens"],
  ["r1 SET a 1775053800000000000 extra", "extra token after an integer"],
  ["r1 SET a 2026-04-01 02:00:00 extra", "extra token after a datetime"],
  ['r1 SET a "2026-04-01 02:00:00" extra', "extra token after a quoted one"],
  ["r1 GET", "GET without job id"],
  ['r1 GET ""', "GET with an empty job id"],
  ["r1 REMOVE", "REMOVE without job id"],
  ['r1 REMOVE ""', "REMOVE with an empty job id"],
  ["r1 REMOVERULE", "REMOVERULE without rule id"],
  ['r1 REMOVERULE ""', "REMOVERULE with an empty rule id"],
  ["r1 RULE SET", "RULE SET without rule id"],
  ["r1 RULE SET r", "RULE SET without pattern"],
  ["r1 RULE SET r p", "RULE SET without runner type"],
  ['r1 RULE SET "" p shell x', "RULE SET with an empty rule id"],
  ["r1 RULE SET r p cron x", "unknown runner type"],
  ["r1 RULE SET r p SHELL x", "upper-case runner type"],
  ["r1 RULE SET r p shell", "shell without command"],
  ["r1 RULE SET r p shell a b", "shell with two arguments"],
  ["r8 RULE SET rule.bad app. awf", "awf without workflow"],
  ["r1 RULE SET r p awf w --input", "awf --input without value"],
  ["r1 RULE SET r p direct", "direct without executable"],
  ["r1 RULE SET r p http PATCH http://x", "unsupported http method"],
  ["r1 RULE SET r p http GET ftp://x", "http url of another scheme"],
  ["r1 RULE SET r p amqp amqp://x e", "amqp with two arguments"],
  ["r1 RULE SET r p redis rediss://h SET k", "rediss url"],
  ["r1 RULE SET r p redis redis://h GET k", "unsupported redis command"],
];

for (const [line, what] of invalid) {
  Deno.test({
    name: `parseRequest() refuses ${
      JSON.stringify(line)
    } with its id (${what})`,
    permissions: "none",
    fn() {
      const request = parseRequest(line);
      assert.equal(request.kind, "invalid");
      assert.equal(
        request.kind === "invalid" ? request.requestId : undefined,
        line.split(" ")[0],
      );
      assert.ok(request.kind === "invalid" && request.reason !== "");
    },
  });
}

Deno.test({
  name: "parseRequest() gives the reason of a refused instruction",
  permissions: "none",
  fn() {
    assert.deepEqual(parseRequest("r1"), {
      kind: "invalid",
      requestId: "r1",
      reason: "missing instruction",
    });
    assert.deepEqual(parseRequest("r1 FOO"), {
      kind: "invalid",
      requestId: "r1",
      reason: 'unknown instruction "FOO"',
    });
    assert.deepEqual(parseRequest("r1 RULE GET x"), {
      kind: "invalid",
      requestId: "r1",
      reason: 'unknown instruction "RULE GET"',
    });
  },
});

/** Malformed after a readable id: answered `r1 ERROR` (protocol.md §10). */
const malformed: [line: string, reason: string][] = [
  ['r1 GET "abc', "unclosed quote"],
  ['r1 "', "unclosed quote"],
  ['r1 SET a "2026-04-01 02:00:00', "unclosed quote"],
  ['r1 GET "a\\"', "unclosed quote"],
  ["r1 GET a\x01", "control character in token"],
  ["r1 GET a\x00b", "control character in token"],
  ["r1 GET a\x1f", "control character in token"],
  ["r1 GET a\x7f", "control character in token"],
  ["r1 GET a\rb", "control character in token"],
  ['r1 GET "a\x0bb"', "control character in token"],
  ['r1 GET "a b" c\x1b', "control character in token"],
  ["r1 STAT \x01", "control character in token"],
];

for (const [line, reason] of malformed) {
  Deno.test({
    name: `parseRequest() refuses ${JSON.stringify(line)} with its id`,
    permissions: "none",
    fn() {
      assert.deepEqual(parseRequest(line), {
        kind: "invalid",
        requestId: "r1",
        reason,
      });
    },
  });
}

Deno.test({
  name: "parseRequest() keeps a TAB inside a token, as no separator",
  permissions: "none",
  fn() {
    assert.deepEqual(parseRequest("r1 GET a\tb"), {
      kind: "command",
      requestId: "r1",
      command: { kind: "get", jobId: "a\tb" },
    });
    assert.equal(parseRequest("r1\tGET a").kind, "invalid");
  },
});

/** Lines whose request id is not readable: no answer (protocol.md §3, §10). */
const unreadable = [
  '"abc',
  '"abc GET a',
  '"',
  '""',
  '"" GET a',
  "r\x01 GET a",
  "\x7f GET a",
  '"r\x00" GET a',
  "\x1b[1m GET a",
];

for (const line of unreadable) {
  Deno.test({
    name: `parseRequest() refuses ${JSON.stringify(line)} without a request id`,
    permissions: "none",
    fn() {
      const request = parseRequest(line);
      assert.equal(request.kind, "invalid");
      assert.ok(request.kind === "invalid");
      assert.equal(request.requestId, undefined);
      assert.notEqual(request.reason, "");
    },
  });
}

/** AUTH lines: no request id, the second token is the secret (protocol.md §9). */
const auths: [line: string, secret: string | undefined][] = [
  ["AUTH sk_deploy_7f3a91", "sk_deploy_7f3a91"],
  ['AUTH "open sesame, said Ali"', "open sesame, said Ali"],
  ['AUTH "say \\"hi\\""', 'say "hi"'],
  ["AUTH sk_deploy_7f3a91 and more tokens", "sk_deploy_7f3a91"],
  ["  AUTH   sk_x  ", "sk_x"],
  ['"AUTH" sk_x', "sk_x"],
  ['AUTH ""', ""],
  ["AUTH", undefined],
  ["AUTH   ", undefined],
  ['AUTH "unclosed', undefined],
  ["AUTH sk\x01x", undefined],
  ['AUTH sk_x "unclosed', undefined],
];

for (const [line, secret] of auths) {
  Deno.test({
    name: `parseRequest() reads ${JSON.stringify(line)} as AUTH`,
    permissions: "none",
    fn() {
      assert.deepEqual(parseRequest(line), { kind: "auth", secret });
    },
  });
}

Deno.test({
  name: "parseRequest() reads AUTH only as the first token, case-sensitive",
  permissions: "none",
  fn() {
    assert.deepEqual(parseRequest("auth sk_x"), {
      kind: "invalid",
      requestId: "auth",
      reason: 'unknown instruction "sk_x"',
    });
    assert.deepEqual(parseRequest("r1 AUTH sk_x"), {
      kind: "invalid",
      requestId: "r1",
      reason: 'unknown instruction "AUTH"',
    });
  },
});
