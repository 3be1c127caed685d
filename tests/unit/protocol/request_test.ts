/** parseRequest() reads every command of protocol.md §6 (refusals in request_invalid_test.ts). */
import assert from "node:assert/strict";
import type { Command } from "../../../src/domain/command.ts";
import { parseRequest } from "../../../src/protocol/request.ts";

/** A spec-style request line and the command it reads as (protocol.md §6). */
const commands: [line: string, command: Command][] = [
  ["r1 SET my.job 1775053800000000000", {
    kind: "set",
    jobId: "my.job",
    executionNs: 1775053800000000000n,
  }],
  ["r1 SET backup.daily 2026-04-01 02:00:00", {
    kind: "set",
    jobId: "backup.daily",
    executionNs: 1775008800000000000n,
  }],
  ['r1 SET backup.daily "2026-04-01 02:00:00"', {
    kind: "set",
    jobId: "backup.daily",
    executionNs: 1775008800000000000n,
  }],
  ["r1 SET past -5", { kind: "set", jobId: "past", executionNs: -5n }],
  ["r1 SET zeros 007", { kind: "set", jobId: "zeros", executionNs: 7n }],
  ["r1 SET max 9223372036854775807", {
    kind: "set",
    jobId: "max",
    executionNs: 9223372036854775807n,
  }],
  ["r1 SET min -9223372036854775808", {
    kind: "set",
    jobId: "min",
    executionNs: -9223372036854775808n,
  }],
  ["r1 SET last 2262-04-11 23:47:16", {
    kind: "set",
    jobId: "last",
    executionNs: 9223372036000000000n,
  }],
  ["r1 SET first 1677-09-21 00:12:44", {
    kind: "set",
    jobId: "first",
    executionNs: -9223372036000000000n,
  }],
  ["r1 SET leap 2024-02-29 00:00:00", {
    kind: "set",
    jobId: "leap",
    executionNs: 1709164800000000000n,
  }],
  ['r1 SET "a b" 1', { kind: "set", jobId: "a b", executionNs: 1n }],
  ["r1 SET tab\there 1", { kind: "set", jobId: "tab\there", executionNs: 1n }],
  ["r1 GET backup.daily", { kind: "get", jobId: "backup.daily" }],
  ["r1 QUERY backup.", { kind: "query", prefix: "backup." }],
  ["r1 QUERY", { kind: "query", prefix: "" }],
  ['r1 QUERY ""', { kind: "query", prefix: "" }],
  ["r1 REMOVE backup.daily", { kind: "remove", jobId: "backup.daily" }],
  ["r1 REMOVERULE rule.events", { kind: "removeRule", ruleId: "rule.events" }],
  ["r1 LISTRULES", { kind: "listRules" }],
  ["r1 STAT", { kind: "stat" }],
  ["r1 RULE SET rule.backup backup. shell /usr/local/bin/backup.sh", {
    kind: "ruleSet",
    rule: {
      id: "rule.backup",
      pattern: "backup.",
      runner: { kind: "shell", command: "/usr/local/bin/backup.sh" },
    },
  }],
  [
    'r2 RULE SET rule.cache cache. shell "find /var/cache/app -mtime +7 -delete"',
    {
      kind: "ruleSet",
      rule: {
        id: "rule.cache",
        pattern: "cache.",
        runner: {
          kind: "shell",
          command: "find /var/cache/app -mtime +7 -delete",
        },
      },
    },
  ],
  ["r3 RULE SET rule.ping ping. direct /usr/bin/ping -c 1 10.0.0.1", {
    kind: "ruleSet",
    rule: {
      id: "rule.ping",
      pattern: "ping.",
      runner: {
        kind: "direct",
        executable: "/usr/bin/ping",
        args: ["-c", "1", "10.0.0.1"],
      },
    },
  }],
  ['r3 RULE SET r p direct /bin/echo "" "a b"', {
    kind: "ruleSet",
    rule: {
      id: "r",
      pattern: "p",
      runner: { kind: "direct", executable: "/bin/echo", args: ["", "a b"] },
    },
  }],
  [
    "r4 RULE SET rule.hook deploy. http POST https://ci.example.org/hooks/deploy",
    {
      kind: "ruleSet",
      rule: {
        id: "rule.hook",
        pattern: "deploy.",
        runner: {
          kind: "http",
          method: "POST",
          url: "https://ci.example.org/hooks/deploy",
        },
      },
    },
  ],
  [
    "r5 RULE SET rule.review review. awf nightly-review --input branch=main --input depth=2",
    {
      kind: "ruleSet",
      rule: {
        id: "rule.review",
        pattern: "review.",
        runner: {
          kind: "awf",
          workflow: "nightly-review",
          inputs: ["branch=main", "depth=2"],
        },
      },
    },
  ],
  [
    "r6 RULE SET rule.events events. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
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
  ],
  ['r6 RULE SET r e. amqp amqp://mq/ "" ""', {
    kind: "ruleSet",
    rule: {
      id: "r",
      pattern: "e.",
      runner: { kind: "amqp", dsn: "amqp://mq/", exchange: "", routingKey: "" },
    },
  }],
  [
    "r7 RULE SET rule.queue queue. redis redis://cache.internal:6379/2 RPUSH queue:due",
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
  ],
  ['r1 RULE SET rule.all "" shell true', {
    kind: "ruleSet",
    rule: {
      id: "rule.all",
      pattern: "",
      runner: { kind: "shell", command: "true" },
    },
  }],
  // Keywords are compared after unquoting (protocol.md §3).
  ['r1 "RULE" "SET" r p "shell" x', {
    kind: "ruleSet",
    rule: { id: "r", pattern: "p", runner: { kind: "shell", command: "x" } },
  }],
  ['r1 "GET" a', { kind: "get", jobId: "a" }],
  // Spaces around and between tokens are not significant.
  ["   r1   GET   a   ", { kind: "get", jobId: "a" }],
  // Surplus arguments are ignored (protocol.md §4, §10).
  ["r1 GET a b c", { kind: "get", jobId: "a" }],
  ["r1 QUERY p q", { kind: "query", prefix: "p" }],
  ["r1 REMOVE a b", { kind: "remove", jobId: "a" }],
  ["r1 REMOVERULE r x y", { kind: "removeRule", ruleId: "r" }],
  ["r1 LISTRULES all of them", { kind: "listRules" }],
  ["r1 STAT now please", { kind: "stat" }],
];

for (const [line, command] of commands) {
  Deno.test({
    name: `parseRequest() reads ${JSON.stringify(line)}`,
    permissions: "none",
    fn() {
      assert.deepEqual(parseRequest(line), {
        kind: "command",
        requestId: line.trim().split(" ")[0]!,
        command,
      });
    },
  });
}

Deno.test({
  name: "parseRequest() echoes a quoted request id as decoded",
  permissions: "none",
  fn() {
    assert.deepEqual(parseRequest('"r 1" STAT'), {
      kind: "command",
      requestId: "r 1",
      command: { kind: "stat" },
    });
    assert.deepEqual(parseRequest('"r\\"1" STAT'), {
      kind: "command",
      requestId: 'r"1',
      command: { kind: "stat" },
    });
    assert.deepEqual(parseRequest("r\\1 STAT"), {
      kind: "command",
      requestId: "r\\1",
      command: { kind: "stat" },
    });
  },
});
