import assert from "node:assert/strict";
import { parseRunner, runnerArgs } from "../../../src/domain/runner.ts";

const accepted: [string, string[]][] = [
  ["shell", ["/usr/local/bin/backup.sh"]],
  ["direct", ["/usr/bin/ping", "-c", "1", "10.0.0.1"]],
  ["direct", ["/bin/x", ""]],
  ["http", ["POST", "https://ci.example.org/hooks/deploy"]],
  ["http", ["GET", "http://x"]],
  ["awf", ["nightly-review"]],
  ["awf", ["nightly-review", "--input", "branch=main", "--input", "depth=2"]],
  ["awf", ["w", "--input", ""]],
  ["amqp", ["amqp://app:s3cret@mq.internal:5672/", "scheduler", "job.due"]],
  ["amqp", ["not even a dsn", "", ""]],
  ["redis", ["redis://cache.internal:6379/2", "RPUSH", "queue:due"]],
  ["redis", ["redis://h", "PUBLISH", ""]],
];

for (const [type, args] of accepted) {
  Deno.test({
    name: `parseRunner() accepts ${type} ${
      JSON.stringify(args)
    } and runnerArgs() gives it back`,
    permissions: "none",
    fn() {
      const runner = parseRunner(type, args);
      assert.equal(runner.kind, type);
      assert.deepEqual(runnerArgs(runner), args);
    },
  });
}

const rejected: [string, string[]][] = [
  ["shell", []],
  ["shell", [""]],
  ["shell", ["a", "b"]],
  ["direct", []],
  ["direct", ["", "x"]],
  ["http", ["POST"]],
  ["http", ["PATCH", "http://x"]],
  ["http", ["post", "http://x"]],
  ["http", ["GET", "ftp://x"]],
  ["http", ["GET", "http://x", "extra"]],
  ["awf", []],
  ["awf", [""]],
  ["awf", ["w", "--input"]],
  ["awf", ["w", "--inputs", "a=b"]],
  ["awf", ["w", "a=b"]],
  ["amqp", ["amqp://x", "e"]],
  ["amqp", ["amqp://x", "e", "k", "z"]],
  ["redis", ["rediss://h", "SET", "k"]],
  ["redis", ["redis://h", "GET", "k"]],
  ["redis", ["redis://h", "set", "k"]],
  ["redis", ["redis://h", "SET"]],
  ["cron", ["* * * * *"]],
  ["SHELL", ["x"]],
];

for (const [type, args] of rejected) {
  Deno.test({
    name: `parseRunner() rejects ${type} ${JSON.stringify(args)}`,
    permissions: "none",
    fn() {
      assert.throws(() => parseRunner(type, args), SyntaxError);
    },
  });
}
