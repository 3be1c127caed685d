/** formatRecord() and parseRecord() on every record kind and runner type (persistence.md §2–§3); broken lines are in record_corrupt_test.ts. */
import assert from "node:assert/strict";
import type { Mutation } from "../../../src/domain/mutation.ts";
import {
  formatRecord,
  parseRecord,
  parseTokenizedRecord,
} from "../../../src/persistence/record.ts";

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
