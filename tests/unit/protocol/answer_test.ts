import assert from "node:assert/strict";
import type { Job } from "../../../src/domain/job.ts";
import type { Result } from "../../../src/domain/result.ts";
import type { Rule } from "../../../src/domain/rule.ts";
import {
  AUTH_ERROR,
  AUTH_OK,
  errorAnswer,
  renderAnswer,
  renderRule,
} from "../../../src/protocol/answer.ts";

const DAILY: Job = {
  id: "backup.daily",
  executionNs: 1775008800000000000n,
  status: "planned",
};
const WEEKLY: Job = {
  id: "backup.weekly",
  executionNs: 1775613600000000000n,
  status: "executed",
};
const BACKUP: Rule = {
  id: "rule.backup",
  pattern: "backup.",
  runner: { kind: "shell", command: "/usr/local/bin/backup.sh" },
};
const CACHE: Rule = {
  id: "rule.cache",
  pattern: "cache.",
  runner: { kind: "shell", command: "find /var/cache/app -mtime +7 -delete" },
};
const REVIEW: Rule = {
  id: "rule.review",
  pattern: "review.",
  runner: {
    kind: "awf",
    workflow: "nightly-review",
    inputs: ["branch=main", "depth=2"],
  },
};

Deno.test({
  name: "renderAnswer() renders a job as `<id> OK <status> <ns>`",
  permissions: "none",
  fn() {
    assert.equal(
      renderAnswer("r1", { kind: "job", job: DAILY }),
      "r1 OK planned 1775008800000000000\n",
    );
    for (const status of ["triggered", "executed", "failed"] as const) {
      assert.equal(
        renderAnswer("r2", { kind: "job", job: { ...DAILY, status } }),
        `r2 OK ${status} 1775008800000000000\n`,
      );
    }
    assert.equal(
      renderAnswer("r3", {
        kind: "job",
        job: { id: "j", executionNs: -9223372036854775808n, status: "failed" },
      }),
      "r3 OK failed -9223372036854775808\n",
    );
  },
});

Deno.test({
  name: "renderAnswer() renders jobs as one line each, then `<id> OK`",
  permissions: "none",
  fn() {
    assert.equal(
      renderAnswer("r1", { kind: "jobs", jobs: [DAILY, WEEKLY] }),
      "r1 backup.daily planned 1775008800000000000\n" +
        "r1 backup.weekly executed 1775613600000000000\n" +
        "r1 OK\n",
    );
    assert.equal(renderAnswer("r1", { kind: "jobs", jobs: [] }), "r1 OK\n");
  },
});

Deno.test({
  name: "renderAnswer() writes job ids raw, never quoted",
  permissions: "none",
  fn() {
    const job: Job = { id: 'a "b"\\c', executionNs: 1n, status: "planned" };
    assert.equal(
      renderAnswer("r1", { kind: "jobs", jobs: [job] }),
      'r1 a "b"\\c planned 1\nr1 OK\n',
    );
  },
});

Deno.test({
  name: "renderAnswer() renders rules as LISTRULES lines, then `<id> OK`",
  permissions: "none",
  fn() {
    // The LISTRULES example of protocol.md §6.
    assert.equal(
      renderAnswer("r9", { kind: "rules", rules: [BACKUP, CACHE, REVIEW] }),
      "r9 rule.backup backup. shell /usr/local/bin/backup.sh\n" +
        "r9 rule.cache cache. shell find /var/cache/app -mtime +7 -delete\n" +
        "r9 rule.review review. awf nightly-review --input branch=main --input depth=2\n" +
        "r9 OK\n",
    );
    assert.equal(renderAnswer("r9", { kind: "rules", rules: [] }), "r9 OK\n");
  },
});

Deno.test({
  name:
    "renderAnswer() renders stats as `<id> <key> <value>` lines, then `<id> OK`",
  permissions: "none",
  fn() {
    assert.equal(
      renderAnswer("r1", {
        kind: "stats",
        entries: [
          ["uptime_ns", 60000000000n],
          ["connections", 1],
          ["persistence", "logfile"],
          ["version", "0.1.0"],
        ],
      }),
      "r1 uptime_ns 60000000000\n" +
        "r1 connections 1\n" +
        "r1 persistence logfile\n" +
        "r1 version 0.1.0\n" +
        "r1 OK\n",
    );
    assert.equal(renderAnswer("r1", { kind: "stats", entries: [] }), "r1 OK\n");
  },
});

Deno.test({
  name: "renderAnswer() renders a done mutation as `<id> OK`",
  permissions: "none",
  fn() {
    const committed = Promise.resolve();
    assert.equal(renderAnswer("r1", { kind: "done", committed }), "r1 OK\n");
    assert.equal(
      renderAnswer("r2", { kind: "done", committed, job: DAILY }),
      "r2 OK\n",
    );
    assert.equal(
      renderAnswer("r3", { kind: "done", committed, rule: BACKUP }),
      "r3 OK\n",
    );
  },
});

const failures: Result[] = [
  { kind: "notFound", reason: "no such job" },
  { kind: "forbidden", reason: '"backup.x" is outside the namespace' },
  { kind: "readOnly", reason: "logfile is read-only after a write failure" },
  { kind: "invalid", reason: "anything" },
];

for (const result of failures) {
  Deno.test({
    name:
      `renderAnswer() renders ${result.kind} as \`<id> ERROR\`, without the reason`,
    permissions: "none",
    fn() {
      assert.equal(renderAnswer("r1", result), "r1 ERROR\n");
    },
  });
}

Deno.test({
  name: "renderAnswer() echoes the request id byte for byte",
  permissions: "none",
  fn() {
    assert.equal(
      renderAnswer("r 1", { kind: "jobs", jobs: [DAILY] }),
      "r 1 backup.daily planned 1775008800000000000\nr 1 OK\n",
    );
    assert.equal(
      renderAnswer("é😀", { kind: "notFound", reason: "x" }),
      "é😀 ERROR\n",
    );
  },
});

/** Every runner type as LISTRULES shows it (protocol.md §6). */
const rendered: [Rule, string][] = [
  [BACKUP, "rule.backup backup. shell /usr/local/bin/backup.sh"],
  [
    {
      id: "rule.report",
      pattern: "report.",
      runner: { kind: "shell", command: '/usr/bin/report --title "Q1" a\\b' },
    },
    'rule.report report. shell /usr/bin/report --title "Q1" a\\b',
  ],
  [
    {
      id: "rule.ping",
      pattern: "ping.",
      runner: {
        kind: "direct",
        executable: "/usr/bin/ping",
        args: ["-c", "1", "10.0.0.1"],
      },
    },
    "rule.ping ping. direct /usr/bin/ping -c 1 10.0.0.1",
  ],
  [
    {
      id: "r",
      pattern: "p",
      runner: { kind: "direct", executable: "/bin/true", args: [] },
    },
    "r p direct /bin/true",
  ],
  [
    {
      id: "r",
      pattern: "p",
      runner: {
        kind: "direct",
        executable: "/bin/echo",
        args: ["a b", "", "c"],
      },
    },
    "r p direct /bin/echo a b  c",
  ],
  [
    {
      id: "rule.hook",
      pattern: "deploy.",
      runner: {
        kind: "http",
        method: "POST",
        url: "https://ci.example.org/hooks/deploy",
      },
    },
    "rule.hook deploy. http POST https://ci.example.org/hooks/deploy",
  ],
  [
    REVIEW,
    "rule.review review. awf nightly-review --input branch=main --input depth=2",
  ],
  [
    {
      id: "r",
      pattern: "p",
      runner: { kind: "awf", workflow: "plain", inputs: [] },
    },
    "r p awf plain",
  ],
  [
    {
      id: "rule.events",
      pattern: "events.",
      runner: {
        kind: "amqp",
        dsn: "amqp://app:s3cret@mq.internal:5672/",
        exchange: "scheduler",
        routingKey: "job.due",
      },
    },
    "rule.events events. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
  ],
  [
    {
      id: "r",
      pattern: "p",
      runner: {
        kind: "amqp",
        dsn: "amqp://mq/",
        exchange: "",
        routingKey: "k",
      },
    },
    "r p amqp amqp://mq/  k",
  ],
  [
    {
      id: "rule.queue",
      pattern: "queue.",
      runner: {
        kind: "redis",
        url: "redis://cache.internal:6379/2",
        command: "RPUSH",
        key: "queue:due",
      },
    },
    "rule.queue queue. redis redis://cache.internal:6379/2 RPUSH queue:due",
  ],
  [
    {
      id: "rule.all",
      pattern: "",
      runner: { kind: "shell", command: "true" },
    },
    "rule.all  shell true",
  ],
];

for (const [rule, text] of rendered) {
  Deno.test({
    name: `renderRule() renders ${JSON.stringify(text)}`,
    permissions: "none",
    fn() {
      assert.equal(renderRule(rule), text);
    },
  });
}

Deno.test({
  name: "errorAnswer() is `<id> ERROR` with an LF",
  permissions: "none",
  fn() {
    assert.equal(errorAnswer("r1"), "r1 ERROR\n");
    assert.equal(errorAnswer("a b"), "a b ERROR\n");
  },
});

Deno.test({
  name: "AUTH_OK and AUTH_ERROR carry no request id",
  permissions: "none",
  fn() {
    assert.equal(AUTH_OK, "OK\n");
    assert.equal(AUTH_ERROR, "ERROR\n");
  },
});
