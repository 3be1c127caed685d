import assert from "node:assert/strict";
import {
  type ClientArgs,
  parseClientArgs,
  parseTimeout,
} from "../../../src/client/args.ts";

function client(args: ClientArgs) {
  assert.equal(args.kind, "client", JSON.stringify(args));
  return args.kind === "client" ? args : undefined!;
}

Deno.test({
  name:
    "parseClientArgs() takes options anywhere after the command, the last one winning",
  permissions: "none",
  fn() {
    const parsed = client(parseClientArgs([
      "set",
      "--json",
      "j",
      "--addr",
      "a:1",
      "+1h",
      "--addr=b:2",
      "--timeout",
      "500ms",
    ]));
    assert.deepEqual(parsed.args, ["j", "+1h"]);
    assert.deepEqual(parsed.options, {
      tls: false,
      json: true,
      timeoutMs: 500,
      addr: "b:2",
    });
    assert.equal(parsed.command, "set");
  },
});

Deno.test({
  name: "parseClientArgs() defaults: no TLS, text output, a 10 s timeout",
  permissions: "none",
  fn() {
    assert.deepEqual(client(parseClientArgs(["stat"])).options, {
      tls: false,
      json: false,
      timeoutMs: 10_000,
    });
  },
});

Deno.test({
  name: "parseClientArgs() makes everything after -- positional",
  permissions: "none",
  fn() {
    const parsed = client(
      parseClientArgs(["set", "j", "--", "-5000000000000000"]),
    );
    assert.deepEqual(parsed.args, ["j", "-5000000000000000"]);
    assert.deepEqual(client(parseClientArgs(["get", "--", "--json"])).args, [
      "--json",
    ]);
  },
});

Deno.test({
  name:
    "parseClientArgs() stops reading options in rule set at the runner type",
  permissions: "none",
  fn() {
    const parsed = client(parseClientArgs([
      "rule",
      "set",
      "--tls",
      "r",
      "p.",
      "retries=3",
      "--json",
      "direct",
      "/bin/ls",
      "-l",
      "--tls=x",
      "--",
    ]));
    assert.deepEqual(parsed.args, [
      "r",
      "p.",
      "retries=3",
      "direct",
      "/bin/ls",
      "-l",
      "--tls=x",
      "--",
    ]);
    assert.equal(parsed.options.tls, true);
    assert.equal(parsed.options.json, true);
    // The pattern is positional even with a "=": the runner type comes after.
    assert.deepEqual(
      client(parseClientArgs(["rule", "set", "r", "a=b", "shell", "x"])).args,
      ["r", "a=b", "shell", "x"],
    );
  },
});

Deno.test({
  name: "parseClientArgs() reads --tz and --catchup only where they belong",
  permissions: "none",
  fn() {
    const cron = client(parseClientArgs([
      "cron",
      "j",
      "@daily",
      "--tz",
      "Europe/Paris",
      "--catchup",
      "all",
    ]));
    assert.equal(cron.options.tz, "Europe/Paris");
    assert.equal(cron.options.catchup, "all");
    for (
      const args of [
        ["set", "j", "now", "--catchup", "skip"],
        ["query", "--tz", "UTC"],
      ]
    ) {
      const parsed = parseClientArgs(args);
      assert.equal(parsed.kind, "usage", args.join(" "));
    }
  },
});

Deno.test({
  name: "parseClientArgs() answers --help and -h with the command",
  permissions: "none",
  fn() {
    assert.deepEqual(parseClientArgs(["rule", "ls", "--help"]), {
      kind: "help",
      command: "rule ls",
    });
    assert.deepEqual(parseClientArgs(["get", "-h"]), {
      kind: "help",
      command: "get",
    });
  },
});

Deno.test({
  name:
    "parseTimeout() reads digits with a unit, bare digits as seconds, above zero",
  permissions: "none",
  fn() {
    const cases: [string, number | undefined][] = [
      ["10s", 10_000],
      ["10", 10_000],
      ["250ms", 250],
      ["2m", 120_000],
      ["1h", 3_600_000],
      ["1d", 86_400_000],
      ["0", undefined],
      ["1.5s", undefined],
      ["1h30m", undefined],
      ["-1s", undefined],
      ["10S", undefined],
      ["", undefined],
    ];
    for (const [text, ms] of cases) assert.equal(parseTimeout(text), ms, text);
  },
});
