/** parseConfig(): the defaults and every value it accepts (errors in config_errors_test.ts, files and addresses in config_load_test.ts). */
import assert from "node:assert/strict";
import {
  type Config,
  DEFAULT_CONFIG,
  parseConfig,
} from "../../../src/config/config.ts";
import { EXAMPLE } from "./_config.ts";

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
