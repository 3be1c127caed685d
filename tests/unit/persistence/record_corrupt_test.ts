/** parseRecord() on lines it ignores or calls corrupt, and on seeded random lines against parseCanonicalSet(). */
import assert from "node:assert/strict";
import type { Mutation } from "../../../src/domain/mutation.ts";
import {
  formatRecord,
  parseCanonicalSet,
  parseRecord,
  parseTokenizedRecord,
} from "../../../src/persistence/record.ts";
import { mulberry32 } from "../../_helpers/random.ts";

const ignored = [
  "",
  " ",
  "   ",
  "\t",
  " \t \t",
  "#",
  "# a comment",
  "#SET a 1 planned",
  "   # indented comment",
  '# "unclosed',
  "# \x01 control characters are fine in comments",
];

for (const line of ignored) {
  Deno.test({
    name: `parseRecord() ignores ${JSON.stringify(line)}`,
    permissions: "none",
    fn() {
      assert.equal(parseRecord(line), undefined);
      assert.equal(parseTokenizedRecord(line), undefined);
    },
  });
}

/** Corrupt lines (persistence.md §3: "Any other shape is a corrupt line"). */
const corrupt: [line: string, what: string][] = [
  ["FOO a", "unknown record"],
  ["set a 1 planned", "lower-case SET"],
  ["GET a", "a protocol instruction"],
  ["r1 SET a 1 planned", "a request id"],
  ["SET", "SET alone"],
  ["SET a", "SET without time and status"],
  ["SET a 1", "SET without status"],
  ['SET "" 1 planned', "SET with an empty id"],
  ["SET a 1 planned extra", "SET with an extra field"],
  ["SET a 2026-04-01 02:00:00 planned", "SET with a datetime"],
  ["SET a 1 done", "unknown status"],
  ["SET a 1 Planned", "capitalised status"],
  ["SET a 1 PLANNED", "upper-case status"],
  ['SET a 1 ""', "empty status"],
  ["SET a x planned", "non-numeric time"],
  ["SET a 1.5 planned", "decimal time"],
  ["SET a +1 planned", "time with +"],
  ["SET a 0x10 planned", "hexadecimal time"],
  ["SET a 1e3 planned", "exponent time"],
  ["SET a - planned", "minus alone"],
  ['SET a "" planned', "empty time"],
  ["SET a 9223372036854775808 planned", "time above int64"],
  ["SET a -9223372036854775809 planned", "time below int64"],
  ["RULE", "RULE alone"],
  ["RULE r p shell x", "RULE without SET"],
  ["RULE GET r p shell x", "RULE GET"],
  ["RULE SET", "RULE SET alone"],
  ["RULE SET r", "RULE SET without pattern"],
  ["RULE SET r p", "RULE SET without runner type"],
  ['RULE SET "" p shell x', "RULE SET with an empty rule id"],
  ["RULE SET r p cron x", "unknown runner type"],
  ["RULE SET r p shell", "shell without command"],
  ["RULE SET r p shell a b", "shell with two arguments"],
  ["RULE SET r p direct", "direct without executable"],
  ["RULE SET r p http PATCH http://x", "unsupported http method"],
  ["RULE SET r p awf", "awf without workflow"],
  ["RULE SET r p awf w --input", "awf --input without value"],
  ["RULE SET r p amqp amqp://x e", "amqp with two arguments"],
  ["RULE SET r p redis rediss://h SET k", "rediss url"],
  ["REMOVE", "REMOVE without id"],
  ["REMOVE a b", "REMOVE with two ids"],
  ['REMOVE ""', "REMOVE with an empty id"],
  ["REMOVERULE", "REMOVERULE without id"],
  ["REMOVERULE a b", "REMOVERULE with two ids"],
  ['REMOVERULE ""', "REMOVERULE with an empty id"],
  ["SET a\x01 1 planned", "control character in the id"],
  ["SET \x1b 1 planned", "escape as the id"],
  ["SET a 1 planned\x7f", "DEL after the status"],
  ["REMOVE a\x00", "NUL in the id"],
  ["REMOVE a\rb", "CR inside the id"],
  ['RULE SET r p shell "x\x00"', "NUL inside quotes"],
  ['REMOVE "a', "unclosed quote"],
  ['RULE SET r p shell "echo \\"', "escaped closing quote"],
  ["\tSET a 1 planned", "TAB is not a separator"],
];

for (const [line, what] of corrupt) {
  Deno.test({
    name: `parseRecord() throws SyntaxError for ${
      JSON.stringify(line)
    } (${what})`,
    permissions: "none",
    fn() {
      assert.throws(() => parseRecord(line), SyntaxError);
      assert.throws(() => parseTokenizedRecord(line), SyntaxError);
      assert.equal(parseCanonicalSet(line), undefined);
    },
  });
}

/**
 * Pieces random lines are made of, each slot a good (canonical) piece or,
 * now and then, a bad one.
 */
const SLOTS: [good: readonly string[], bad: readonly string[]][] = [
  [[""], [" ", "  "]],
  [["SET"], ["set", "SETT", "REMOVE", '"SET"', "SE"]],
  [[" "], ["  ", "", "\t"]],
  [
    [
      "a",
      "backup.daily",
      "é😀",
      "a\tb",
      "a\\b",
      "#x",
      "-1",
      "planned",
      "\u00a0",
    ],
    ['"a b"', '""', 'a"b', "a\x01", "\x7f", "", "a\x1b"],
  ],
  [[" "], ["  ", "", "\t", " x "]],
  [
    [
      "0",
      "-0",
      "1",
      "007",
      "-5",
      "1775008800000000000",
      "9223372036854775807",
      "-9223372036854775808",
    ],
    [
      "9223372036854775808",
      "-9223372036854775809",
      "99999999999999999999999",
      "+1",
      "1.5",
      "1e3",
      "0x10",
      "-",
      "",
      "\x01",
      "1\t",
      '"1"',
    ],
  ],
  [[" "], ["  ", "", "\t"]],
  [
    ["planned", "triggered", "executed", "failed"],
    ["Planned", "plan", "failedx", '"planned"', "", "planned\x7f"],
  ],
  [[""], [" ", " x", "\t", " planned", '"']],
];

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

/** Lines from a seeded generator: about a third canonical SETs, the rest broken. */
function randomLines(seed: number, count: number): string[] {
  const next = mulberry32(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    let line = "";
    for (const [good, bad] of SLOTS) {
      line += pick(next, next() < 0.12 ? bad : good);
    }
    lines.push(line);
  }
  return lines;
}

Deno.test({
  name:
    "parseCanonicalSet() equals parseTokenizedRecord() on every line it accepts",
  permissions: "none",
  fn() {
    let accepted = 0;
    let deferred = 0;
    for (const line of randomLines(0x5e7, 10_000)) {
      const fast = parseCanonicalSet(line);
      if (fast === undefined) {
        deferred++;
        continue;
      }
      accepted++;
      assert.deepEqual(fast, parseTokenizedRecord(line), JSON.stringify(line));
    }
    // The generator must exercise both paths, or the check proves nothing.
    assert.ok(accepted > 2000, `only ${accepted} lines took the fast path`);
    assert.ok(deferred > 2000, `only ${deferred} lines were deferred`);
  },
});

Deno.test({
  name: "parseCanonicalSet() accepts every bare SET line formatRecord() writes",
  permissions: "none",
  fn() {
    let checked = 0;
    for (const line of randomLines(0xc0ffee, 10_000)) {
      let mutation: Mutation | undefined;
      try {
        mutation = parseTokenizedRecord(line);
      } catch (error) {
        if (error instanceof SyntaxError) continue;
        throw error;
      }
      if (mutation?.kind !== "set") continue;
      const written = formatRecord(mutation);
      if (written.includes('"')) continue; // quoted: the slow path's job
      checked++;
      assert.deepEqual(parseCanonicalSet(written), mutation, written);
      assert.deepEqual(parseRecord(written), mutation, written);
    }
    assert.ok(checked > 2000, `only ${checked} canonical lines checked`);
  },
});

Deno.test({
  name: "parseRecord() reads what parseCanonicalSet() defers to the tokenizer",
  permissions: "none",
  fn() {
    for (const line of randomLines(42, 5_000)) {
      if (parseCanonicalSet(line) !== undefined) continue;
      let slow: Mutation | undefined | SyntaxError;
      try {
        slow = parseTokenizedRecord(line);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        slow = error;
      }
      if (slow instanceof SyntaxError) {
        assert.throws(() => parseRecord(line), SyntaxError, line);
      } else {
        assert.deepEqual(parseRecord(line), slow, line);
      }
    }
  },
});
