import assert from "node:assert/strict";
import type { Job } from "../../../src/domain/job.ts";
import type { Result } from "../../../src/domain/result.ts";
import type { Rule } from "../../../src/domain/rule.ts";
import { renderAnswer } from "../../../src/protocol/answer.ts";
import {
  type Answer,
  AnswerReader,
  type AnswerShape,
  parseJobLine,
  parseJobState,
  parseRuleLine,
  parseRunLine,
  parseStatLine,
} from "../../../src/protocol/answer_parse.ts";

/** Feeds rendered answer text to a reader, line by line. */
function read(text: string, shape: AnswerShape, id = "r1"): Answer {
  const reader = new AnswerReader(id, shape);
  const lines = text.split("\n");
  assert.equal(lines.pop(), "");
  for (const [i, line] of lines.entries()) {
    const answer = reader.add(line);
    if (answer !== undefined) {
      assert.equal(i, lines.length - 1, "the answer ends at its last line");
      return answer;
    }
  }
  throw new Error("no final line");
}

const JOBS: Job[] = [
  { id: "b.1", executionNs: 1775008800000000001n, status: "planned" },
  { id: "with space", executionNs: -5n, status: "failed" },
  { id: "OK", executionNs: 0n, status: "executed" },
];

Deno.test({
  name: "AnswerReader reads back what renderAnswer() writes for every shape",
  permissions: "none",
  fn() {
    const done: Result = { kind: "done", committed: Promise.resolve() };
    assert.deepEqual(read(renderAnswer("r1", done), "line"), {
      kind: "ok",
      data: [],
      value: "",
    });
    const job = read(
      renderAnswer("r1", { kind: "job", job: JOBS[0]! }),
      "line",
    );
    assert.equal(job.kind, "ok");
    assert.deepEqual(parseJobState(job.kind === "ok" ? job.value : ""), {
      status: "planned",
      executionNs: 1775008800000000001n,
    });
    const jobs = read(renderAnswer("r1", { kind: "jobs", jobs: JOBS }), "list");
    assert.equal(jobs.kind, "ok");
    assert.deepEqual(
      jobs.kind === "ok" ? jobs.data.map(parseJobLine) : [],
      JOBS,
    );
    const failure: Result = { kind: "notFound", reason: "x" };
    assert.deepEqual(read(renderAnswer("r1", failure), "line"), {
      kind: "error",
    });
    assert.deepEqual(read(renderAnswer("r1", failure), "list"), {
      kind: "error",
    });
  },
});

Deno.test({
  name:
    "AnswerReader takes a QUERY line for a job named OK as data, not as the end",
  permissions: "none",
  fn() {
    const reader = new AnswerReader("r1", "list");
    assert.equal(reader.add("r1 OK planned 5"), undefined);
    assert.equal(reader.add("r1 ERROR failed 5"), undefined);
    assert.deepEqual(reader.add("r1 OK"), {
      kind: "ok",
      data: ["OK planned 5", "ERROR failed 5"],
      value: "",
    });
  },
});

Deno.test({
  name:
    "AnswerReader tells a bare ERROR (AUTH required) from other requests' lines",
  permissions: "none",
  fn() {
    assert.deepEqual(new AnswerReader("r1", "line").add("ERROR"), {
      kind: "unauthenticated",
    });
    assert.deepEqual(new AnswerReader("r1", "list").add("ERROR"), {
      kind: "unauthenticated",
    });
    for (const line of ["r2 OK", "r1", "", "\x15\x03\x03", "r1 planned 5"]) {
      assert.throws(
        () => new AnswerReader("r1", "line").add(line),
        SyntaxError,
        JSON.stringify(line),
      );
    }
    assert.throws(
      () => new AnswerReader("r1", "list").add("r2 OK"),
      SyntaxError,
    );
  },
});

Deno.test({
  name: "parseStatLine() and the stats renderer agree, values kept as text",
  permissions: "none",
  fn() {
    const entries = [
      ["uptime_ns", 9007199254740993n],
      ["persistence", "logfile"],
      ["connections", 1],
    ] as const;
    const answer = read(
      renderAnswer("s", { kind: "stats", entries }),
      "list",
      "s",
    );
    assert.deepEqual(
      answer.kind === "ok" ? answer.data.map(parseStatLine) : [],
      [
        ["uptime_ns", "9007199254740993"],
        ["persistence", "logfile"],
        ["connections", "1"],
      ],
    );
    assert.throws(() => parseStatLine("novalue"), SyntaxError);
  },
});

Deno.test({
  name: "parseRuleLine() reads back every runner type LISTRULES renders",
  permissions: "none",
  fn() {
    const rules: Rule[] = [
      {
        id: "r.sh",
        pattern: "a.",
        runner: { kind: "shell", command: "echo a  b" },
      },
      {
        id: "r.direct",
        pattern: "",
        runner: { kind: "direct", executable: "/bin/ls", args: ["-l", "/tmp"] },
      },
      {
        id: "r.http",
        pattern: "h.",
        runner: { kind: "http", method: "POST", url: "http://h/x?a=b" },
      },
      {
        id: "r.awf",
        pattern: "w.",
        runner: { kind: "awf", workflow: "wf", inputs: ["a=1", "b=two words"] },
      },
      {
        id: "r.amqp",
        pattern: "q.",
        runner: {
          kind: "amqp",
          dsn: "amqp://u:p@mq/",
          exchange: "x",
          routingKey: "k",
        },
      },
      {
        id: "r.redis",
        pattern: "r.",
        runner: {
          kind: "redis",
          url: "redis://h/2",
          command: "RPUSH",
          key: "due list",
        },
      },
    ];
    const answer = read(renderAnswer("r1", { kind: "rules", rules }), "list");
    const read_ = answer.kind === "ok" ? answer.data.map(parseRuleLine) : [];
    assert.deepEqual(
      read_.map((rule) => [rule.id, rule.pattern, rule.runner, rule.args]),
      [
        ["r.sh", "a.", "shell", ["echo a  b"]],
        ["r.direct", "", "direct", ["/bin/ls", "-l", "/tmp"]],
        ["r.http", "h.", "http", ["POST", "http://h/x?a=b"]],
        ["r.awf", "w.", "awf", [
          "wf",
          "--input",
          "a=1",
          "--input",
          "b=two words",
        ]],
        ["r.amqp", "q.", "amqp", ["amqp://u:p@mq/", "x", "k"]],
        ["r.redis", "r.", "redis", ["redis://h/2", "RPUSH", "due list"]],
      ],
    );
    assert.ok(read_.every((rule) => rule.options.length === 0));
  },
});

Deno.test({
  name:
    "parseRuleLine() reads rule options between the pattern and the runner type",
  permissions: "none",
  fn() {
    assert.deepEqual(
      parseRuleLine(
        "rule.hook hook. retries=5 backoff=30s max_backoff=10m http POST http://127.0.0.1:8080/hook",
      ),
      {
        id: "rule.hook",
        pattern: "hook.",
        options: [["retries", "5"], ["backoff", "30s"], ["max_backoff", "10m"]],
        runner: "http",
        args: ["POST", "http://127.0.0.1:8080/hook"],
      },
    );
    // A pattern may hold "=": only fields after it are options.
    assert.equal(parseRuleLine("r a=b. shell x").pattern, "a=b.");
    for (const line of ["", "r", "r p.", "r p. retries=1"]) {
      assert.throws(() => parseRuleLine(line), SyntaxError, line);
    }
  },
});

Deno.test({
  name: "parseRunLine() reads HISTORY lines, rule ids empty or spaced",
  permissions: "none",
  fn() {
    assert.deepEqual(
      parseRunLine(
        "2 1775008811250000000 1775008812001000000 executed rule.backup exit:0",
      ),
      {
        attempt: 2,
        startedNs: 1775008811250000000n,
        endedNs: 1775008812001000000n,
        outcome: "executed",
        rule: "rule.backup",
        detail: "exit:0",
      },
    );
    assert.equal(parseRunLine("1 1 2 failed a b timeout").rule, "a b");
    assert.equal(parseRunLine("1 1 2 failed  no-rule").rule, "");
    for (const line of ["1 2 3 failed x", "x 1 2 failed r exit:1"]) {
      assert.throws(() => parseRunLine(line), SyntaxError, line);
    }
  },
});

Deno.test({
  name:
    "parseJobState() and parseJobLine() refuse what GET and QUERY never send",
  permissions: "none",
  fn() {
    for (const text of ["planned", "planned x", "done 5", "planned 5 6"]) {
      assert.throws(() => parseJobState(text), SyntaxError, text);
    }
    for (const text of ["planned 5", "j done 5", "j planned 5.5"]) {
      assert.throws(() => parseJobLine(text), SyntaxError, text);
    }
  },
});
