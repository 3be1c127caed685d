import assert from "node:assert/strict";
import {
  type Invocation,
  parseCommandLine,
  USAGE,
} from "../../../src/config/cli.ts";

function dump(
  logfile: string,
  options: Partial<Extract<Invocation, { kind: "dump" }>> = {},
): Invocation {
  return {
    kind: "dump",
    logfile,
    format: "text",
    compact: false,
    follow: false,
    history: 10,
    ...options,
  };
}

function usage(problem: string): Invocation {
  return { kind: "usage", problem };
}

function check(cases: [string[], Invocation][]): void {
  for (const [argv, expected] of cases) {
    assert.deepEqual(parseCommandLine(argv), expected, argv.join(" "));
  }
}

Deno.test({
  name: "parseCommandLine() runs the server with defaults without arguments",
  permissions: "none",
  fn() {
    check([
      [[], { kind: "server", configPath: undefined }],
      [["server"], { kind: "server", configPath: undefined }],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() reads the config path in every spelling",
  permissions: "none",
  fn() {
    const server = { kind: "server", configPath: "z.toml" } as const;
    check([
      [["-c", "z.toml"], server],
      [["-cz.toml"], server],
      [["--config", "z.toml"], server],
      [["--config=z.toml"], server],
      [["server", "-c", "z.toml"], server],
      [["server", "--config", "z.toml"], server],
      [["server", "--config=z.toml"], server],
      [["--config=-odd.toml"], { kind: "server", configPath: "-odd.toml" }],
      [["-c", "a b/ztick.toml"], {
        kind: "server",
        configPath: "a b/ztick.toml",
      }],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() keeps the last of a repeated option",
  permissions: "none",
  fn() {
    check([
      [["-c", "a.toml", "--config", "b.toml"], {
        kind: "server",
        configPath: "b.toml",
      }],
      [["dump", "log", "--format", "json", "--format=text"], dump("log")],
      [
        ["dump", "--compact", "log", "--compact"],
        dump("log", {
          compact: true,
        }),
      ],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() recognises --version and --help as first argument",
  permissions: "none",
  fn() {
    check([
      [["--version"], { kind: "version" }],
      [["-v"], { kind: "version" }],
      [["--help"], { kind: "help" }],
      [["-h"], { kind: "help" }],
      [["server", "--help"], { kind: "help" }],
      [["server", "-h"], { kind: "help" }],
      [["dump", "--help"], { kind: "help" }],
      [["dump", "log", "-h"], { kind: "help" }],
      [["-c", "z.toml", "--help"], { kind: "help" }],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() reads dump options before or after LOGFILE",
  permissions: "none",
  fn() {
    check([
      [["dump", "logfile"], dump("logfile")],
      [
        ["dump", "logfile", "--format", "json"],
        dump("logfile", {
          format: "json",
        }),
      ],
      [
        ["dump", "--format", "json", "logfile"],
        dump("logfile", {
          format: "json",
        }),
      ],
      [
        ["dump", "--format=json", "logfile"],
        dump("logfile", {
          format: "json",
        }),
      ],
      [["dump", "logfile", "--format=text"], dump("logfile")],
      [
        ["dump", "--compact", "logfile", "--follow"],
        dump("logfile", {
          compact: true,
          follow: true,
        }),
      ],
      [
        ["dump", "--follow", "--compact", "--format=json", "/var/ztick/log"],
        dump("/var/ztick/log", { format: "json", compact: true, follow: true }),
      ],
      [["dump", "--", "-weird"], dump("-weird")],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() reports unknown options",
  permissions: "none",
  fn() {
    check([
      [["--foo"], usage('unknown option "--foo"')],
      [["-x"], usage('unknown option "-x"')],
      [["--foo=bar"], usage('unknown option "--foo"')],
      [["server", "--format", "json"], usage('unknown option "--format"')],
      [["dump", "log", "-c", "z.toml"], usage('unknown option "-c"')],
      [["dump", "log", "--config=z.toml"], usage('unknown option "--config"')],
      [["-c", "z.toml", "--version"], usage('unknown option "--version"')],
      [["dump", "log", "--json"], usage('unknown option "--json"')],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() reports an option without its value",
  permissions: "none",
  fn() {
    check([
      [["-c"], usage('option "-c" needs a value')],
      [["--config"], usage('option "--config" needs a value')],
      [["--config="], usage('option "--config" needs a value')],
      [["server", "--config"], usage('option "--config" needs a value')],
      [["--config", "--help"], usage('option "--config" needs a value')],
      [["dump", "log", "--format"], usage('option "--format" needs a value')],
      [
        ["dump", "--format", "--compact", "log"],
        usage(
          'option "--format" needs a value',
        ),
      ],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() reports a value given to a flag",
  permissions: "none",
  fn() {
    check([
      [
        ["dump", "log", "--compact=yes"],
        usage(
          'option "--compact" takes no value',
        ),
      ],
      [
        ["dump", "log", "--follow=1"],
        usage('option "--follow" takes no value'),
      ],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() reports unexpected positional arguments",
  permissions: "none",
  fn() {
    check([
      [["x"], usage('unexpected argument "x"')],
      [["help"], usage('unexpected argument "help"')],
      [["-c", "z.toml", "extra"], usage('unexpected argument "extra"')],
      [["server", "dump"], usage('unexpected argument "dump"')],
      [["-c", "z.toml", "server"], usage('unexpected argument "server"')],
      [["dump", "a", "b"], usage('unexpected argument "b"')],
      [["--", "x"], usage('unexpected argument "x"')],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() reports an unknown --format value",
  permissions: "none",
  fn() {
    check([
      [
        ["dump", "log", "--format", "xml"],
        usage(
          'unknown format "xml" (text or json)',
        ),
      ],
      [
        ["dump", "--format=JSON", "log"],
        usage(
          'unknown format "JSON" (text or json)',
        ),
      ],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() reports dump without LOGFILE",
  permissions: "none",
  fn() {
    check([
      [["dump"], usage("dump needs a LOGFILE")],
      [["dump", "--compact", "--format=json"], usage("dump needs a LOGFILE")],
    ]);
  },
});

Deno.test({
  name: "parseCommandLine() does not change its argument",
  permissions: "none",
  fn() {
    const argv = ["dump", "--format", "json", "log"];
    parseCommandLine(argv);
    assert.deepEqual(argv, ["dump", "--format", "json", "log"]);
  },
});

Deno.test({
  name: "USAGE starts with a one-line synopsis and lists every form",
  permissions: "none",
  fn() {
    const [first] = USAGE.split("\n");
    assert.match(first!, /^usage: ztick /);
    assert.ok(first!.length <= 100, first);
    for (
      const part of [
        "-c PATH | --config PATH",
        "ztick server",
        "ztick dump LOGFILE [--format text|json] [--compact] [--follow]",
        "--version | -v",
        "--help | -h",
        "ztick set <job> <when> [--tz ZONE]",
        "ztick rule set <rule> <pattern> [<key>=<value> ...] <runner> <args...>",
        "--timeout DURATION",
      ]
    ) {
      assert.ok(USAGE.includes(part), part);
    }
    assert.ok(USAGE.endsWith("\n"));
  },
});

Deno.test({
  name: "parseCommandLine() hands the client commands to the client's parser",
  permissions: "none",
  fn() {
    for (
      const word of ["set", "cron", "get", "query", "rm", "history", "stat"]
    ) {
      const invocation = parseCommandLine([word, "--help"]);
      assert.equal(invocation.kind, "help", word);
      if (invocation.kind === "help") {
        assert.match(invocation.text!, new RegExp(`^usage: ztick ${word} `));
      }
    }
    assert.deepEqual(parseCommandLine(["rule", "ls", "--json"]), {
      kind: "client",
      command: "rule ls",
      args: [],
      options: { tls: false, json: true, timeoutMs: 10_000 },
    });
    const usage = parseCommandLine(["get"]);
    assert.equal(usage.kind, "usage");
    if (usage.kind === "usage") {
      assert.equal(usage.problem, "get needs <job>");
      assert.match(usage.usage!, /^usage: ztick get <job>/);
    }
  },
});
