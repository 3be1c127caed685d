/** The extension records: SET attempt=, RULE SET options, RUN (spec: extensions.md §5). */
import assert from "node:assert/strict";
import type { Mutation } from "../../../src/domain/mutation.ts";
import {
  formatRecord,
  parseCanonicalSet,
  parseRecord,
} from "../../../src/persistence/record.ts";
import { formatJson } from "../../../src/persistence/record_json.ts";

const RUN: Mutation = {
  kind: "run",
  run: {
    jobId: "backup.daily",
    attempt: 2,
    startedNs: 1775008811250000000n,
    endedNs: 1775008812001000000n,
    outcome: "failed",
    ruleId: "rule.backup",
    detail: "exit:3",
    message: 'exited with code 3: rsync: "x" \\ refused\té',
  },
};

Deno.test({
  name:
    "formatRecord() writes attempt only above 1, options between pattern and runner, RUN with its message quoted",
  permissions: "none",
  fn() {
    assert.equal(
      formatRecord({
        kind: "set",
        job: { id: "a", executionNs: 5n, status: "planned", attempt: 3 },
      }),
      "SET a 5 planned attempt=3",
    );
    assert.equal(
      formatRecord({
        kind: "set",
        job: { id: "a", executionNs: 5n, status: "planned", attempt: 1 },
      }),
      "SET a 5 planned",
    );
    assert.equal(
      formatRecord({
        kind: "ruleSet",
        rule: {
          id: "rule.hook",
          pattern: "hook.",
          options: { retries: 5, backoffMs: 30_000, maxBackoffMs: 600_000 },
          runner: { kind: "http", method: "POST", url: "http://h/hook" },
        },
      }),
      "RULE SET rule.hook hook. retries=5 backoff=30s max_backoff=10m http POST http://h/hook",
    );
    assert.equal(
      formatRecord(RUN),
      'RUN backup.daily 2 1775008811250000000 1775008812001000000 failed rule.backup exit:3 "exited with code 3: rsync: \\"x\\" \\\\ refused\té"',
    );
    assert.equal(
      formatRecord({
        kind: "run",
        run: { ...RUN.run, ruleId: "", detail: "no-rule", message: "" },
      }),
      'RUN backup.daily 2 1775008811250000000 1775008812001000000 failed "" no-rule ""',
    );
  },
});

Deno.test({
  name: "parseRecord() reads the extension records back",
  permissions: "none",
  fn() {
    const records: Mutation[] = [
      RUN,
      { kind: "run", run: { ...RUN.run, ruleId: "", message: "" } },
      {
        kind: "set",
        job: { id: "a b", executionNs: -5n, status: "triggered", attempt: 100 },
      },
      {
        kind: "ruleSet",
        rule: {
          id: "r",
          pattern: "",
          options: { timeoutMs: 0 },
          runner: { kind: "shell", command: "a=b" },
        },
      },
    ];
    for (const record of records) {
      assert.deepEqual(parseRecord(formatRecord(record)), record);
    }
    assert.deepEqual(parseRecord("SET a 5 planned attempt=1"), {
      kind: "set",
      job: { id: "a", executionNs: 5n, status: "planned" },
    });
    assert.equal(parseCanonicalSet("SET a 5 planned attempt=2"), undefined);
  },
});

Deno.test({
  name: "parseRecord() refuses malformed extension records",
  permissions: "none",
  fn() {
    for (
      const line of [
        "SET a 5 planned attempt=0",
        "SET a 5 planned attempt=",
        "SET a 5 planned attempt=x",
        "SET a 5 planned attempt=2 attempt=3",
        "SET a 5 planned retries=2",
        "SET a 5 planned attempt",
        "RUN a 1 1 2 failed r exit:1",
        'RUN a 1 1 2 failed r exit:1 "" extra',
        'RUN "" 1 1 2 failed r exit:1 ""',
        'RUN a 0 1 2 failed r exit:1 ""',
        'RUN a 1 x 2 failed r exit:1 ""',
        'RUN a 1 1 2 planned r exit:1 ""',
        'RUN a 1 1 2 failed r "" ""',
        'RUN a 1 1 2 failed r "exit 1" ""',
        "RULE SET r p retries=101 shell x",
        "RULE SET r p bogus=1 shell x",
        "RULE SET r p retries=1",
      ]
    ) {
      assert.throws(() => parseRecord(line), SyntaxError, line);
    }
  },
});

Deno.test({
  name:
    "formatJson() adds attempt after status, options after pattern, and run objects",
  permissions: "none",
  fn() {
    assert.equal(
      formatJson({
        kind: "set",
        job: {
          id: "a",
          executionNs: 1775008800000000001n,
          status: "planned",
          attempt: 2,
        },
      }),
      '{"type":"set","identifier":"a","execution":1775008800000000001,"status":"planned","attempt":2}',
    );
    assert.equal(
      formatJson({
        kind: "ruleSet",
        rule: {
          id: "r",
          pattern: "p.",
          options: { timeoutMs: 120_000, retries: 5 },
          runner: { kind: "shell", command: "x" },
        },
      }),
      '{"type":"rule_set","identifier":"r","pattern":"p.","options":{"retries":5,"timeout":"2m"},"runner":{"type":"shell","command":"x"}}',
    );
    assert.equal(
      formatJson({
        kind: "ruleSet",
        rule: {
          id: "r",
          pattern: "p.",
          runner: { kind: "shell", command: "x" },
        },
      }),
      '{"type":"rule_set","identifier":"r","pattern":"p.","runner":{"type":"shell","command":"x"}}',
    );
    assert.equal(
      formatJson(RUN),
      '{"type":"run","identifier":"backup.daily","attempt":2,"started":1775008811250000000,"ended":1775008812001000000,"outcome":"failed","rule":"rule.backup","detail":"exit:3","message":"exited with code 3: rsync: \\"x\\" \\\\ refused\\té"}',
    );
  },
});
