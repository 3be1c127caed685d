import assert from "node:assert/strict";
import {
  type Config,
  DEFAULT_CONFIG,
  loadConfig,
  parseConfig,
} from "../../../src/config/config.ts";
import { parseListenAddress } from "../../../src/config/listen_address.ts";
import { ConfigError } from "../../../src/config/config_error.ts";
import { tempDir } from "../../_helpers/fs.ts";

/** Asserts that `fn` throws a ConfigError whose message is exactly `message`. */
function assertConfigError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    assert.equal(error.name, "ConfigError");
    assert.equal(error.message, message);
    return true;
  });
}

async function assertLoadError(
  path: string | undefined,
  message: string | RegExp,
): Promise<void> {
  await assert.rejects(() => loadConfig(path), (error) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

const EXAMPLE = `
[log]
level = "debug"
format = "json"

[controller]
listen = "0.0.0.0:5679"
auth_file = "/etc/ztick/auth.toml"
tls_cert = "/etc/ztick/cert.pem"
tls_key = "/etc/ztick/key.pem"
max_connections = 500

[shell]
path = "/bin/bash"
args = ["-e", "-c"]

[database]
persistence = "memory"
logfile_path = "/var/lib/ztick/logfile"
fsync_on_persist = false
framerate = 60
compression_interval = 0

[telemetry]
enabled = true
endpoint = "http://otel.local:4318"
service_name = "ztick-prod"
flush_interval_ms = 1000

[http]
listen = "[::1]:8080"

[execution]
concurrency = 8
timeout = 900
on_interrupted = "fail"
history = 0
`;

// --- defaults and values ---------------------------------------------------

Deno.test({
  name: "parseConfig() gives the spec's defaults for an empty file",
  permissions: "none",
  fn() {
    const config = parseConfig("", "empty.toml");
    const expected: Config = {
      path: "empty.toml",
      log: { level: "info", format: "text" },
      controller: {
        listen: { hostname: "127.0.0.1", port: 5678, text: "127.0.0.1:5678" },
      },
      shell: { path: "/bin/sh", args: ["-c"] },
      database: {
        persistence: "logfile",
        logfilePath: "logfile",
        fsyncOnPersist: true,
        framerate: 512,
        compressionIntervalS: 3600,
      },
      telemetry: {
        enabled: false,
        serviceName: "ztick",
        flushIntervalMs: 5000,
      },
      http: {},
      execution: {
        concurrency: 16,
        timeoutS: 0,
        onInterrupted: "rerun",
        history: 10,
        retentionMs: 0,
      },
      cluster: { leaseMs: 5000 },
    };
    assert.deepEqual(structuredClone(config), expected);
    assert.deepEqual(
      structuredClone(DEFAULT_CONFIG),
      { ...expected, path: undefined },
    );
  },
});

Deno.test({
  name: "parseConfig() gives defaults for empty sections and comments",
  permissions: "none",
  fn() {
    const text = "# nothing\n[log]\n[controller]\n[shell]\n[database]\n" +
      "[telemetry]\n[http]\n[execution]\n";
    assert.deepEqual(
      structuredClone(parseConfig(text, "x")),
      structuredClone({ ...DEFAULT_CONFIG, path: "x" }),
    );
  },
});

Deno.test({
  name: "parseConfig() reads every key of every section",
  permissions: "none",
  fn() {
    const config = parseConfig(EXAMPLE, "/etc/ztick.toml");
    const expected: Config = {
      path: "/etc/ztick.toml",
      log: { level: "debug", format: "json" },
      controller: {
        listen: { hostname: "0.0.0.0", port: 5679, text: "0.0.0.0:5679" },
        authFile: "/etc/ztick/auth.toml",
        tlsCert: "/etc/ztick/cert.pem",
        tlsKey: "/etc/ztick/key.pem",
        maxConnections: 500,
      },
      shell: { path: "/bin/bash", args: ["-e", "-c"] },
      database: {
        persistence: "memory",
        logfilePath: "/var/lib/ztick/logfile",
        fsyncOnPersist: false,
        framerate: 60,
        compressionIntervalS: 0,
      },
      telemetry: {
        enabled: true,
        endpoint: "http://otel.local:4318",
        serviceName: "ztick-prod",
        flushIntervalMs: 1000,
      },
      http: { listen: { hostname: "::1", port: 8080, text: "[::1]:8080" } },
      execution: {
        concurrency: 8,
        timeoutS: 900,
        onInterrupted: "fail",
        history: 0,
        retentionMs: 0,
      },
      cluster: { leaseMs: 5000 },
    };
    assert.deepEqual(structuredClone(config), expected);
  },
});

Deno.test({
  name: "parseConfig() leaves unset optional keys out of the result",
  permissions: "none",
  fn() {
    const config = parseConfig("", "x");
    for (const key of ["authFile", "tlsCert", "tlsKey", "maxConnections"]) {
      assert.ok(!(key in config.controller), key);
    }
    assert.ok(!("endpoint" in config.telemetry));
    assert.ok(!("listen" in config.http));
  },
});

Deno.test({
  name: "parseConfig() accepts every log level, trace included",
  permissions: "none",
  fn() {
    for (const level of ["off", "error", "warn", "info", "debug", "trace"]) {
      const config = parseConfig(`[log]\nlevel = "${level}"\n`, "x");
      assert.equal(config.log.level, level);
    }
  },
});

Deno.test({
  name: "parseConfig() accepts the bounds of every integer range",
  permissions: "none",
  fn() {
    const cases: [string, string, number, (c: Config) => number | undefined][] =
      [
        ["database", "framerate", 1, (c) => c.database.framerate],
        ["database", "framerate", 65535, (c) => c.database.framerate],
        [
          "database",
          "compression_interval",
          0,
          (c) => c.database.compressionIntervalS,
        ],
        [
          "database",
          "compression_interval",
          4294967295,
          (c) => c.database.compressionIntervalS,
        ],
        [
          "telemetry",
          "flush_interval_ms",
          1,
          (c) => c.telemetry.flushIntervalMs,
        ],
        [
          "telemetry",
          "flush_interval_ms",
          4294967295,
          (c) => c.telemetry.flushIntervalMs,
        ],
        ["execution", "concurrency", 1, (c) => c.execution.concurrency],
        ["execution", "concurrency", 1024, (c) => c.execution.concurrency],
        ["execution", "timeout", 0, (c) => c.execution.timeoutS],
        ["execution", "timeout", 4294967295, (c) => c.execution.timeoutS],
        [
          "controller",
          "max_connections",
          1,
          (c) => c.controller.maxConnections,
        ],
        [
          "controller",
          "max_connections",
          1000000,
          (c) => c.controller.maxConnections,
        ],
      ];
    for (const [section, key, value, read] of cases) {
      const config = parseConfig(`[${section}]\n${key} = ${value}\n`, "x");
      assert.equal(read(config), value, `${section}.${key} = ${value}`);
    }
  },
});

Deno.test({
  name: "parseConfig() accepts TOML integer spellings (hex, underscores)",
  permissions: "none",
  fn() {
    const config = parseConfig(
      "[execution]\nconcurrency = 0x10\ntimeout = 1_000\n",
      "x",
    );
    assert.equal(config.execution.concurrency, 16);
    assert.equal(config.execution.timeoutS, 1000);
  },
});

Deno.test({
  name: "parseConfig() accepts an empty [shell] args array",
  permissions: "none",
  fn() {
    const config = parseConfig("[shell]\nargs = []\n", "x");
    assert.deepEqual([...config.shell.args], []);
  },
});

Deno.test({
  name: "parseConfig() accepts https endpoints, and endpoints when disabled",
  permissions: "none",
  fn() {
    const secure = parseConfig(
      '[telemetry]\nenabled = true\nendpoint = "https://otel.example.com/base"\n',
      "x",
    );
    assert.equal(secure.telemetry.endpoint, "https://otel.example.com/base");
    const off = parseConfig(
      '[telemetry]\nendpoint = "http://127.0.0.1:4318"\n',
      "x",
    );
    assert.equal(off.telemetry.enabled, false);
    assert.equal(off.telemetry.endpoint, "http://127.0.0.1:4318");
  },
});

Deno.test({
  name: "parseConfig() returns a frozen configuration",
  permissions: "none",
  fn() {
    const config = parseConfig(EXAMPLE, "x");
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.execution));
    assert.ok(Object.isFrozen(config.shell.args));
    assert.ok(Object.isFrozen(DEFAULT_CONFIG.controller.listen));
  },
});

Deno.test({
  name: "parseConfig() allows tls_cert and tls_key together, or neither",
  permissions: "none",
  fn() {
    const both = parseConfig(
      '[controller]\ntls_cert = "c.pem"\ntls_key = "k.pem"\n',
      "x",
    );
    assert.equal(both.controller.tlsCert, "c.pem");
    assert.equal(both.controller.tlsKey, "k.pem");
  },
});

// --- every startup error of configuration.md §3 ----------------------------

/** [what, TOML text, exact message]. */
const ERRORS: [string, string, string][] = [
  // TOML syntax
  [
    "a TOML syntax error",
    "[controller\nlisten = 1\n",
    "config: invalid TOML: line 1, column 12: illegal character in key",
  ],
  [
    "an unterminated string",
    '[log]\nlevel = "info\n',
    "config: invalid TOML: line 2, column 14: control characters are not allowed in strings",
  ],
  [
    "a key defined twice",
    '[log]\nlevel = "info"\nlevel = "debug"\n',
    "config: invalid TOML: line 3, column 1: trying to redefine an already defined table or value",
  ],
  // unknown sections
  ["an unknown section", "[foo]\n", "config: unknown section [foo]"],
  [
    "an unknown nested table",
    "[controller.extra]\na = 1\n",
    "config: unknown section [controller.extra]",
  ],
  [
    "a nested table under an unknown section",
    "[foo.bar]\n",
    "config: unknown section [foo]",
  ],
  [
    "an inline table under an unknown key",
    "[database]\nextra = { a = 1 }\n",
    "config: unknown section [database.extra]",
  ],
  [
    "a dotted unknown key",
    "[execution]\nlimits.max = 1\n",
    "config: unknown section [execution.limits]",
  ],
  [
    "an array of tables at top level",
    '[[controller]]\nlisten = "127.0.0.1:1"\n',
    "config: unknown section [[controller]]",
  ],
  [
    "an array of tables in a section",
    "[[log.extra]]\n",
    "config: unknown section [[log.extra]]",
  ],
  // unknown keys
  [
    "an unknown key",
    "[database]\nfsync = true\n",
    'config: unknown key "fsync" in [database]',
  ],
  [
    "an unknown key at top level",
    "framerate = 512\n",
    'config: unknown key "framerate" at top level',
  ],
  [
    "a section name used as a top-level key",
    'log = "debug"\n',
    'config: unknown key "log" at top level',
  ],
  [
    "an array that is not of tables in a section",
    "[log]\nlevels = [1]\n",
    'config: unknown key "levels" in [log]',
  ],
  [
    "a key that belongs to another section",
    "[controller]\nconcurrency = 4\n",
    'config: unknown key "concurrency" in [controller]',
  ],
  // wrong types
  [
    "a number for a string",
    "[log]\nlevel = 3\n",
    "config: [log] level must be a string",
  ],
  [
    "an inline table for a known key",
    '[controller]\nlisten = { host = "a" }\n',
    "config: [controller] listen must be a string",
  ],
  [
    "a table for a known key",
    '[controller.listen]\nhost = "a"\n',
    "config: [controller] listen must be a string",
  ],
  [
    "a date for a string",
    "[controller]\nauth_file = 2026-04-01\n",
    "config: [controller] auth_file must be a string",
  ],
  [
    "a number for tls_cert",
    '[controller]\ntls_cert = 1\ntls_key = "k"\n',
    "config: [controller] tls_cert must be a string",
  ],
  [
    "a boolean for tls_key",
    '[controller]\ntls_cert = "c"\ntls_key = true\n',
    "config: [controller] tls_key must be a string",
  ],
  [
    "an array for [http] listen",
    '[http]\nlisten = ["a:1"]\n',
    "config: [http] listen must be a string",
  ],
  [
    "a number for [shell] path",
    "[shell]\npath = 1\n",
    "config: [shell] path must be a string",
  ],
  [
    "a string for a boolean",
    '[database]\nfsync_on_persist = "yes"\n',
    "config: [database] fsync_on_persist must be a boolean",
  ],
  [
    "an integer for a boolean",
    "[telemetry]\nenabled = 1\n",
    "config: [telemetry] enabled must be a boolean",
  ],
  [
    "a float for an integer (512.0)",
    "[database]\nframerate = 512.0\n",
    "config: [database] framerate must be an integer",
  ],
  [
    "a string for an integer",
    '[execution]\nconcurrency = "4"\n',
    "config: [execution] concurrency must be an integer",
  ],
  [
    "inf for an integer",
    "[execution]\ntimeout = inf\n",
    "config: [execution] timeout must be an integer",
  ],
  [
    "a float for compression_interval",
    "[database]\ncompression_interval = 1e3\n",
    "config: [database] compression_interval must be an integer",
  ],
  [
    "a float for flush_interval_ms",
    "[telemetry]\nflush_interval_ms = 5000.5\n",
    "config: [telemetry] flush_interval_ms must be an integer",
  ],
  [
    "a float for max_connections",
    "[controller]\nmax_connections = 10.0\n",
    "config: [controller] max_connections must be an integer",
  ],
  [
    "a string for args",
    '[shell]\nargs = "-c"\n',
    "config: [shell] args must be an array of strings",
  ],
  [
    "a mixed array for args",
    '[shell]\nargs = ["-c", 1]\n',
    "config: [shell] args must be an array of strings",
  ],
  [
    "a number for persistence",
    "[database]\npersistence = 0\n",
    "config: [database] persistence must be a string",
  ],
  [
    "a number for on_interrupted",
    "[execution]\non_interrupted = false\n",
    "config: [execution] on_interrupted must be a string",
  ],
  [
    "a number for service_name",
    "[telemetry]\nservice_name = 1\n",
    "config: [telemetry] service_name must be a string",
  ],
  [
    "a number for endpoint",
    "[telemetry]\nendpoint = 4318\n",
    "config: [telemetry] endpoint must be a string",
  ],
  [
    "a number for logfile_path",
    "[database]\nlogfile_path = 1\n",
    "config: [database] logfile_path must be a string",
  ],
  // values
  [
    "an unknown log level",
    '[log]\nlevel = "verbose"\n',
    "config: [log] level must be one of off, error, warn, info, debug, trace",
  ],
  [
    "an unknown log format",
    '[log]\nformat = "logfmt"\n',
    'config: [log] format must be "text" or "json"',
  ],
  [
    "a log format that is not a string",
    "[log]\nformat = true\n",
    "config: [log] format must be a string",
  ],
  [
    "a log level in capitals",
    '[log]\nlevel = "INFO"\n',
    "config: [log] level must be one of off, error, warn, info, debug, trace",
  ],
  [
    "a controller listen address without port",
    '[controller]\nlisten = "127.0.0.1"\n',
    'config: [controller] listen must be "host:port"',
  ],
  [
    "an http listen address with a port out of range",
    '[http]\nlisten = "127.0.0.1:65536"\n',
    'config: [http] listen must be "host:port"',
  ],
  [
    "only tls_cert",
    '[controller]\ntls_cert = "c.pem"\n',
    "config: [controller] tls_cert and tls_key must be set together",
  ],
  [
    "only tls_key",
    '[controller]\ntls_key = "k.pem"\n',
    "config: [controller] tls_cert and tls_key must be set together",
  ],
  [
    "an unknown persistence",
    '[database]\npersistence = "disk"\n',
    'config: [database] persistence must be "logfile", "memory" or "postgres"',
  ],
  [
    "an empty logfile_path",
    '[database]\nlogfile_path = ""\n',
    "config: [database] logfile_path must not be empty",
  ],
  [
    "framerate 0",
    "[database]\nframerate = 0\n",
    "config: [database] framerate must be between 1 and 65535",
  ],
  [
    "a negative framerate",
    "[database]\nframerate = -1\n",
    "config: [database] framerate must be between 1 and 65535",
  ],
  [
    "framerate 65536",
    "[database]\nframerate = 65536\n",
    "config: [database] framerate must be between 1 and 65535",
  ],
  [
    "a negative compression_interval",
    "[database]\ncompression_interval = -1\n",
    "config: [database] compression_interval must be between 0 and 4294967295",
  ],
  [
    "compression_interval 2^32",
    "[database]\ncompression_interval = 4294967296\n",
    "config: [database] compression_interval must be between 0 and 4294967295",
  ],
  [
    "telemetry enabled without endpoint",
    "[telemetry]\nenabled = true\n",
    "config: [telemetry] endpoint is required when enabled = true",
  ],
  [
    "a non-http endpoint",
    '[telemetry]\nendpoint = "ftp://otel.local"\n',
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "an endpoint without scheme",
    '[telemetry]\nenabled = true\nendpoint = "otel.local:4318"\n',
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "an empty endpoint",
    '[telemetry]\nenabled = true\nendpoint = ""\n',
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "an endpoint without host",
    '[telemetry]\nendpoint = "http://"\n',
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "an endpoint with a query",
    '[telemetry]\nendpoint = "http://otel.local/?x=1"\n',
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "an empty service_name",
    '[telemetry]\nservice_name = ""\n',
    "config: [telemetry] service_name must not be empty",
  ],
  [
    "flush_interval_ms 0",
    "[telemetry]\nflush_interval_ms = 0\n",
    "config: [telemetry] flush_interval_ms must be between 1 and 4294967295",
  ],
  [
    "flush_interval_ms 2^32",
    "[telemetry]\nflush_interval_ms = 4294967296\n",
    "config: [telemetry] flush_interval_ms must be between 1 and 4294967295",
  ],
  [
    "concurrency 0",
    "[execution]\nconcurrency = 0\n",
    "config: [execution] concurrency must be between 1 and 1024",
  ],
  [
    "concurrency 1025",
    "[execution]\nconcurrency = 1025\n",
    "config: [execution] concurrency must be between 1 and 1024",
  ],
  [
    "a negative timeout",
    "[execution]\ntimeout = -5\n",
    "config: [execution] timeout must be between 0 and 4294967295",
  ],
  [
    "a timeout above int64",
    "[execution]\ntimeout = 99999999999999999999\n",
    "config: [execution] timeout must be between 0 and 4294967295",
  ],
  [
    "an unknown on_interrupted",
    '[execution]\non_interrupted = "skip"\n',
    'config: [execution] on_interrupted must be "rerun" or "fail"',
  ],
  [
    "a negative history",
    "[execution]\nhistory = -1\n",
    "config: [execution] history must be between 0 and 1000",
  ],
  [
    "history 1001",
    "[execution]\nhistory = 1001\n",
    "config: [execution] history must be between 0 and 1000",
  ],
  [
    "a string for history",
    '[execution]\nhistory = "10"\n',
    "config: [execution] history must be an integer",
  ],
  ...["2 h", "1h30m", "-1s", "1.5s", "10S", "", "4294967296s"].map((
    value,
  ): [string, string, string] => [
    `retention ${JSON.stringify(value)}`,
    `[execution]\nretention = ${JSON.stringify(value)}\n`,
    "config: [execution] retention must be a duration",
  ]),
  [
    "a number for retention",
    "[execution]\nretention = 3600\n",
    "config: [execution] retention must be a duration",
  ],
  [
    "max_connections 0",
    "[controller]\nmax_connections = 0\n",
    "config: [controller] max_connections must be between 1 and 1000000",
  ],
  [
    "max_connections 1000001",
    "[controller]\nmax_connections = 1000001\n",
    "config: [controller] max_connections must be between 1 and 1000000",
  ],
];

for (const [what, text, message] of ERRORS) {
  Deno.test({
    name: `parseConfig() rejects ${what}`,
    permissions: "none",
    fn() {
      assertConfigError(() => parseConfig(text, "z.toml"), message);
    },
  });
}

Deno.test({
  name: "parseConfig() reports the first problem in document order",
  permissions: "none",
  fn() {
    assertConfigError(
      () =>
        parseConfig(
          "[execution]\nconcurrency = 0\n[database]\nframerate = 0\n",
          "x",
        ),
      "config: [execution] concurrency must be between 1 and 1024",
    );
    assertConfigError(
      () => parseConfig("[database]\nframerate = 0\nfsync = 1\n", "x"),
      "config: [database] framerate must be between 1 and 65535",
    );
  },
});

Deno.test({
  name: "parseConfig() never quotes the file's text in a TOML error",
  permissions: "none",
  fn() {
    assert.throws(
      () => parseConfig('[controller]\nauth_file = "sk_secret_1\n', "x"),
      (error: Error) => {
        assert.match(error.message, /^config: invalid TOML: line 2, /);
        assert.ok(!error.message.includes("sk_secret_1"));
        assert.ok(!error.message.includes("\n"));
        return true;
      },
    );
  },
});

// --- listen addresses -------------------------------------------------------

Deno.test({
  name: "parseListenAddress() accepts IPv4, bracketed IPv6 and host names",
  permissions: "none",
  fn() {
    const cases: [string, string, number][] = [
      ["127.0.0.1:5678", "127.0.0.1", 5678],
      ["0.0.0.0:0", "0.0.0.0", 0],
      ["255.255.255.255:65535", "255.255.255.255", 65535],
      ["[::1]:5678", "::1", 5678],
      ["[::]:80", "::", 80],
      ["[2001:db8::8a2e:370:7334]:443", "2001:db8::8a2e:370:7334", 443],
      ["[::ffff:192.0.2.1]:1", "::ffff:192.0.2.1", 1],
      ["localhost:5678", "localhost", 5678],
      [
        "ztick-1.internal.example.com:9000",
        "ztick-1.internal.example.com",
        9000,
      ],
      ["host:05678", "host", 5678],
    ];
    for (const [text, hostname, port] of cases) {
      assert.deepEqual(parseListenAddress(text), { hostname, port, text });
    }
  },
});

Deno.test({
  name: "parseListenAddress() rejects malformed addresses",
  permissions: "none",
  fn() {
    const bad = [
      "",
      "5678",
      ":5678",
      "127.0.0.1",
      "127.0.0.1:",
      "127.0.0.1:65536",
      "127.0.0.1:-1",
      "127.0.0.1:+80",
      "127.0.0.1:0x10",
      "127.0.0.1:80 ",
      " 127.0.0.1:80",
      "127.0.0.1:123456",
      "256.0.0.1:80",
      "1.2.3:80",
      "01.2.3.4:80",
      "::1:5678",
      "[::1]",
      "[::1:5678",
      "::1]:5678",
      "[127.0.0.1]:80",
      "[]:80",
      "[:::1]:80",
      "[fe80::1%eth0]:80",
      "-host:80",
      "host-:80",
      "ho_st:80",
      "host..name:80",
      "host.:80",
      "http://host:80",
      "host:80/path",
    ];
    for (const text of bad) {
      assert.equal(parseListenAddress(text), undefined, JSON.stringify(text));
    }
  },
});

// --- loadConfig(): files and the shell ------------------------------------

Deno.test("loadConfig() returns the defaults without a path", async () => {
  const config = await loadConfig(undefined);
  assert.equal(config, DEFAULT_CONFIG);
  assert.equal(config.path, undefined);
});

Deno.test("loadConfig() reads and validates a file", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const path = `${dir.path}/ztick.toml`;
  await Deno.writeTextFile(
    path,
    '[execution]\nconcurrency = 3\n[shell]\npath = "/bin/sh"\n',
  );
  const config = await loadConfig(path);
  assert.equal(config.path, path);
  assert.equal(config.execution.concurrency, 3);
});

Deno.test("loadConfig() reports a missing file with the OS reason", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const path = `${dir.path}/missing.toml`;
  await assertLoadError(
    path,
    `config: cannot read ${path}: No such file or directory (os error 2)`,
  );
});

Deno.test("loadConfig() reports a directory as unreadable", async () => {
  await using dir = await tempDir("ztick_config_test_");
  await assertLoadError(
    dir.path,
    `config: cannot read ${dir.path}: Is a directory (os error 21)`,
  );
});

Deno.test("loadConfig() reports invalid UTF-8 as invalid TOML", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const path = `${dir.path}/latin1.toml`;
  await Deno.writeFile(
    path,
    new Uint8Array([0x23, 0x20, 0xe9, 0x0a]), // "# é" in Latin-1
  );
  await assertLoadError(path, "config: invalid TOML: not valid UTF-8");
});

Deno.test("loadConfig() reports TOML errors of the file", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const path = `${dir.path}/bad.toml`;
  await Deno.writeTextFile(path, "[database]\nfsync = true\n");
  await assertLoadError(path, 'config: unknown key "fsync" in [database]');
});

Deno.test("loadConfig() accepts a UTF-8 byte order mark", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const path = `${dir.path}/bom.toml`;
  await Deno.writeTextFile(path, "\uFEFF[execution]\nconcurrency = 2\n");
  assert.equal((await loadConfig(path)).execution.concurrency, 2);
});

Deno.test("loadConfig() rejects a shell path that does not exist", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const shell = `${dir.path}/nosh`;
  const path = `${dir.path}/ztick.toml`;
  await Deno.writeTextFile(path, `[shell]\npath = "${shell}"\n`);
  await assertLoadError(
    path,
    `config: [shell] path "${shell}" is not an executable file`,
  );
});

Deno.test("loadConfig() rejects a shell path that is a directory", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const path = `${dir.path}/ztick.toml`;
  await Deno.writeTextFile(path, `[shell]\npath = "${dir.path}"\n`);
  await Deno.chmod(dir.path, 0o755);
  await assertLoadError(
    path,
    `config: [shell] path "${dir.path}" is not an executable file`,
  );
});

Deno.test("loadConfig() rejects a shell file without execute bits", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const shell = `${dir.path}/sh`;
  await Deno.writeTextFile(shell, "#!/bin/sh\n", { mode: 0o644 });
  await Deno.chmod(shell, 0o644);
  const path = `${dir.path}/ztick.toml`;
  await Deno.writeTextFile(path, `[shell]\npath = "${shell}"\n`);
  await assertLoadError(
    path,
    `config: [shell] path "${shell}" is not an executable file`,
  );
});

Deno.test("loadConfig() rejects an empty shell path", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const path = `${dir.path}/ztick.toml`;
  await Deno.writeTextFile(path, '[shell]\npath = ""\n');
  await assertLoadError(
    path,
    'config: [shell] path "" is not an executable file',
  );
});

Deno.test("loadConfig() accepts a shell with any execute bit, via a symlink", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const shell = `${dir.path}/sh`;
  await Deno.writeTextFile(shell, "#!/bin/sh\n");
  await Deno.chmod(shell, 0o601); // executable by others only
  const link = `${dir.path}/sh-link`;
  await Deno.symlink(shell, link);
  const path = `${dir.path}/ztick.toml`;
  await Deno.writeTextFile(path, `[shell]\npath = "${link}"\nargs = []\n`);
  const config = await loadConfig(path);
  assert.equal(config.shell.path, link);
});

Deno.test("loadConfig() accepts the defaulted /bin/sh", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const path = `${dir.path}/ztick.toml`;
  await Deno.writeTextFile(path, "");
  const config = await loadConfig(path);
  assert.equal(config.shell.path, "/bin/sh");
  assert.deepEqual([...config.shell.args], ["-c"]);
});

Deno.test("loadConfig() checks the shell after the rest of the file", async () => {
  await using dir = await tempDir("ztick_config_test_");
  const path = `${dir.path}/ztick.toml`;
  await Deno.writeTextFile(
    path,
    `[shell]\npath = "${dir.path}/nosh"\n[execution]\nconcurrency = 0\n`,
  );
  await assertLoadError(
    path,
    "config: [execution] concurrency must be between 1 and 1024",
  );
});

Deno.test({
  name:
    "parseConfig() reads [execution] retention as a duration; 0 (default) keeps forever",
  permissions: "none",
  fn() {
    const read = (value: string) =>
      parseConfig(`[execution]\nretention = "${value}"\n`, "z.toml")
        .execution.retentionMs;
    assert.equal(parseConfig("", "z.toml").execution.retentionMs, 0);
    assert.equal(read("2s"), 2000);
    assert.equal(read("7d"), 604_800_000);
    assert.equal(read("90"), 90_000);
    assert.equal(read("0"), 0);
  },
});
