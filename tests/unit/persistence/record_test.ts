import assert from "node:assert/strict";
import type { Mutation } from "../../../src/domain/mutation.ts";
import {
  formatRecord,
  parseCanonicalSet,
  parseRecord,
  parseTokenizedRecord,
} from "../../../src/persistence/record.ts";
import { mulberry32 } from "../../_helpers/random.ts";

/** Every record kind and runner type with its canonical line (persistence.md §2–§3). */
const canonical: [Mutation, string][] = [
  [
    {
      kind: "set",
      job: {
        id: "backup.daily",
        executionNs: 1775008800000000000n,
        status: "planned",
      },
    },
    "SET backup.daily 1775008800000000000 planned",
  ],
  [
    { kind: "set", job: { id: "a", executionNs: 0n, status: "triggered" } },
    "SET a 0 triggered",
  ],
  [
    {
      kind: "set",
      job: { id: "a", executionNs: 9223372036854775807n, status: "executed" },
    },
    "SET a 9223372036854775807 executed",
  ],
  [
    {
      kind: "set",
      job: { id: "a", executionNs: -9223372036854775808n, status: "failed" },
    },
    "SET a -9223372036854775808 failed",
  ],
  [
    { kind: "set", job: { id: "a b", executionNs: 1n, status: "planned" } },
    'SET "a b" 1 planned',
  ],
  [
    { kind: "set", job: { id: "é😀", executionNs: 1n, status: "planned" } },
    "SET é😀 1 planned",
  ],
  [{ kind: "remove", jobId: "report.q1" }, "REMOVE report.q1"],
  [{ kind: "remove", jobId: 'say "hi"' }, 'REMOVE "say \\"hi\\""'],
  [{ kind: "removeRule", ruleId: "rule.events" }, "REMOVERULE rule.events"],
  [{ kind: "removeRule", ruleId: "a\\b" }, 'REMOVERULE "a\\\\b"'],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "rule.backup",
        pattern: "backup.",
        runner: { kind: "shell", command: "/usr/local/bin/backup.sh" },
      },
    },
    "RULE SET rule.backup backup. shell /usr/local/bin/backup.sh",
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "rule.report",
        pattern: "report.",
        runner: { kind: "shell", command: '/usr/bin/report --title "Q1"' },
      },
    },
    'RULE SET rule.report report. shell "/usr/bin/report --title \\"Q1\\""',
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "rule.all",
        pattern: "",
        runner: { kind: "shell", command: "true" },
      },
    },
    'RULE SET rule.all "" shell true',
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "rule.ping",
        pattern: "ping.",
        runner: {
          kind: "direct",
          executable: "/usr/bin/ping",
          args: ["-c", "1", "", "a b", "tab\there"],
        },
      },
    },
    'RULE SET rule.ping ping. direct /usr/bin/ping -c 1 "" "a b" "tab\there"',
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "r",
        pattern: "p",
        runner: { kind: "direct", executable: "/bin/true", args: [] },
      },
    },
    "RULE SET r p direct /bin/true",
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "rule.hook",
        pattern: "deploy.",
        runner: {
          kind: "http",
          method: "DELETE",
          url: "https://ci.example.org/hooks/deploy?a=1&b=2",
        },
      },
    },
    "RULE SET rule.hook deploy. http DELETE https://ci.example.org/hooks/deploy?a=1&b=2",
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "rule.review",
        pattern: "review.",
        runner: {
          kind: "awf",
          workflow: "nightly-review",
          inputs: ["branch=main", "depth 2", ""],
        },
      },
    },
    'RULE SET rule.review review. awf nightly-review --input branch=main --input "depth 2" --input ""',
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "r",
        pattern: "p",
        runner: { kind: "awf", workflow: "plain", inputs: [] },
      },
    },
    "RULE SET r p awf plain",
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "rule.events",
        pattern: "events.",
        runner: {
          kind: "amqp",
          dsn: "amqp://app:s3cret@mq.internal:5672/",
          exchange: "scheduler",
          routingKey: "job.due",
        },
      },
    },
    "RULE SET rule.events events. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "r",
        pattern: "p",
        runner: {
          kind: "amqp",
          dsn: "amqp://mq/",
          exchange: "",
          routingKey: "",
        },
      },
    },
    'RULE SET r p amqp amqp://mq/ "" ""',
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "rule.queue",
        pattern: "queue.",
        runner: {
          kind: "redis",
          url: "redis://cache.internal:6379/2",
          command: "RPUSH",
          key: "queue:due",
        },
      },
    },
    "RULE SET rule.queue queue. redis redis://cache.internal:6379/2 RPUSH queue:due",
  ],
  [
    {
      kind: "ruleSet",
      rule: {
        id: "r",
        pattern: "p",
        runner: { kind: "redis", url: "redis://h", command: "SET", key: "" },
      },
    },
    'RULE SET r p redis redis://h SET ""',
  ],
];

for (const [mutation, line] of canonical) {
  Deno.test({
    name: `formatRecord() writes ${
      JSON.stringify(line)
    } and parseRecord() reads it back`,
    permissions: "none",
    fn() {
      assert.equal(formatRecord(mutation), line);
      assert.deepEqual(parseRecord(line), mutation);
      assert.deepEqual(parseTokenizedRecord(line), mutation);
    },
  });
}

Deno.test({
  name:
    "formatRecord() quotes a token exactly when it is empty or holds a space, TAB, quote or backslash",
  permissions: "none",
  fn() {
    const quoted: [string, string][] = [
      ["", '""'],
      [" ", '" "'],
      ["a b", '"a b"'],
      ["a\tb", '"a\tb"'],
      ['a"b', '"a\\"b"'],
      ["a\\b", '"a\\\\b"'],
      ['\\"', '"\\\\\\""'],
      ["plain.id-1_x:y/z", "plain.id-1_x:y/z"],
      ["é😀#", "é😀#"],
      ["'single'", "'single'"],
    ];
    for (const [token, written] of quoted) {
      const mutation: Mutation = {
        kind: "ruleSet",
        rule: {
          id: "r",
          pattern: token,
          runner: { kind: "shell", command: "x" },
        },
      };
      const line = formatRecord(mutation);
      assert.equal(line, `RULE SET r ${written} shell x`, token);
      assert.deepEqual(parseRecord(line), mutation, token);
    }
  },
});

Deno.test({
  name:
    "parseRecord() reads tokens the way the protocol does, non-canonical spacing and quoting included",
  permissions: "none",
  fn() {
    const set: Mutation = {
      kind: "set",
      job: { id: "a", executionNs: 7n, status: "planned" },
    };
    assert.deepEqual(parseRecord("  SET   a  007  planned  "), set);
    assert.deepEqual(parseRecord('SET "a" "7" "planned"'), set);
    assert.deepEqual(parseRecord('"SET" a 7 planned'), set);
    assert.deepEqual(parseRecord("REMOVE a\tb"), {
      kind: "remove",
      jobId: "a\tb",
    });
    // A quote inside a bare token opens a new token (protocol.md §3).
    assert.deepEqual(parseRecord('RULE SET r p direct x"y z"w'), {
      kind: "ruleSet",
      rule: {
        id: "r",
        pattern: "p",
        runner: { kind: "direct", executable: "x", args: ["y z", "w"] },
      },
    });
    assert.throws(() => parseRecord('RULE SET r p shell "x"y'), SyntaxError);
  },
});

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
