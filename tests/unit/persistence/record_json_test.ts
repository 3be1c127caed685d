import assert from "node:assert/strict";
import type { Mutation } from "../../../src/domain/mutation.ts";
import type { Runner } from "../../../src/domain/runner.ts";
import { formatJson } from "../../../src/persistence/record_json.ts";

function ruleSet(runner: Runner): Mutation {
  return { kind: "ruleSet", rule: { id: "r", pattern: "p.", runner } };
}

/** Every record kind and runner type as `dump --format json` writes it (persistence.md §10). */
const written: [Mutation, string][] = [
  [
    {
      kind: "set",
      job: {
        id: "backup.daily",
        executionNs: 1775008800000000000n,
        status: "executed",
      },
    },
    '{"type":"set","identifier":"backup.daily","execution":1775008800000000000,"status":"executed"}',
  ],
  [
    { kind: "remove", jobId: "report.q1" },
    '{"type":"remove","identifier":"report.q1"}',
  ],
  [
    { kind: "removeRule", ruleId: "rule.events" },
    '{"type":"remove_rule","identifier":"rule.events"}',
  ],
  [
    ruleSet({ kind: "shell", command: '/usr/bin/report --title "Q1"' }),
    '{"type":"rule_set","identifier":"r","pattern":"p.","runner":{"type":"shell","command":"/usr/bin/report --title \\"Q1\\""}}',
  ],
  [
    ruleSet({ kind: "direct", executable: "/bin/echo", args: ["a b", ""] }),
    '{"type":"rule_set","identifier":"r","pattern":"p.","runner":{"type":"direct","executable":"/bin/echo","args":["a b",""]}}',
  ],
  [
    ruleSet({ kind: "direct", executable: "/bin/true", args: [] }),
    '{"type":"rule_set","identifier":"r","pattern":"p.","runner":{"type":"direct","executable":"/bin/true","args":[]}}',
  ],
  [
    ruleSet({ kind: "http", method: "PUT", url: "https://h/x?a=1" }),
    '{"type":"rule_set","identifier":"r","pattern":"p.","runner":{"type":"http","method":"PUT","url":"https://h/x?a=1"}}',
  ],
  [
    ruleSet({
      kind: "awf",
      workflow: "nightly-review",
      inputs: ["branch=main", "depth=2"],
    }),
    '{"type":"rule_set","identifier":"r","pattern":"p.","runner":{"type":"awf","workflow":"nightly-review","inputs":["branch=main","depth=2"]}}',
  ],
  [
    ruleSet({ kind: "awf", workflow: "plain", inputs: [] }),
    '{"type":"rule_set","identifier":"r","pattern":"p.","runner":{"type":"awf","workflow":"plain","inputs":[]}}',
  ],
  [
    ruleSet({
      kind: "amqp",
      dsn: "amqp://app:s3cret@mq.internal:5672/",
      exchange: "scheduler",
      routingKey: "job.due",
    }),
    '{"type":"rule_set","identifier":"r","pattern":"p.","runner":{"type":"amqp","dsn":"amqp://app:s3cret@mq.internal:5672/","exchange":"scheduler","routing_key":"job.due"}}',
  ],
  [
    ruleSet({
      kind: "redis",
      url: "redis://cache.internal:6379/2",
      command: "RPUSH",
      key: "queue:due",
    }),
    '{"type":"rule_set","identifier":"r","pattern":"p.","runner":{"type":"redis","url":"redis://cache.internal:6379/2","command":"RPUSH","key":"queue:due"}}',
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
    '{"type":"rule_set","identifier":"rule.all","pattern":"","runner":{"type":"shell","command":"true"}}',
  ],
];

for (const [mutation, json] of written) {
  Deno.test({
    name: `formatJson() writes ${json}`,
    permissions: "none",
    fn() {
      assert.equal(formatJson(mutation), json);
    },
  });
}

Deno.test({
  name: "formatJson() writes the execution time as an exact integer",
  permissions: "none",
  fn() {
    for (
      const ns of [
        0n,
        -1n,
        1775008800000000001n,
        9223372036854775807n,
        -9223372036854775808n,
      ]
    ) {
      const json = formatJson({
        kind: "set",
        job: { id: "a", executionNs: ns, status: "planned" },
      });
      assert.equal(
        json,
        `{"type":"set","identifier":"a","execution":${ns},"status":"planned"}`,
      );
      // Read back without a double in between, the digits are the same.
      const digits = /"execution":(-?[0-9]+),/.exec(json)?.[1];
      assert.equal(BigInt(digits!), ns);
    }
  },
});

Deno.test({
  name: "formatJson() escapes identifiers and values as JSON strings",
  permissions: "none",
  fn() {
    const id = 'a "b" \\ \t é😀 \u2028';
    const set = formatJson({
      kind: "set",
      job: { id, executionNs: 1n, status: "failed" },
    });
    assert.deepEqual(JSON.parse(set), {
      type: "set",
      identifier: id,
      execution: 1,
      status: "failed",
    });
    assert.deepEqual(JSON.parse(formatJson({ kind: "remove", jobId: id })), {
      type: "remove",
      identifier: id,
    });
    const rule = JSON.parse(
      formatJson(ruleSet({ kind: "direct", executable: id, args: [id] })),
    );
    assert.equal(rule.runner.executable, id);
    assert.deepEqual(rule.runner.args, [id]);
  },
});

Deno.test({
  name:
    "formatJson() lists every runner's keys in the spec's order, snake case",
  permissions: "none",
  fn() {
    const keys: [Runner, string[]][] = [
      [{ kind: "shell", command: "c" }, ["type", "command"]],
      [
        { kind: "direct", executable: "e", args: [] },
        ["type", "executable", "args"],
      ],
      [{ kind: "http", url: "http://h", method: "GET" }, [
        "type",
        "method",
        "url",
      ]],
      [{ kind: "awf", inputs: [], workflow: "w" }, [
        "type",
        "workflow",
        "inputs",
      ]],
      [
        { kind: "amqp", routingKey: "k", exchange: "x", dsn: "amqp://h" },
        ["type", "dsn", "exchange", "routing_key"],
      ],
      [
        { kind: "redis", key: "k", command: "SET", url: "redis://h" },
        ["type", "url", "command", "key"],
      ],
    ];
    for (const [runner, expected] of keys) {
      const object = JSON.parse(formatJson(ruleSet(runner)));
      assert.deepEqual(Object.keys(object), [
        "type",
        "identifier",
        "pattern",
        "runner",
      ]);
      assert.deepEqual(Object.keys(object.runner), expected, runner.kind);
    }
  },
});
