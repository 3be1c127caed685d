/** parseListenAddress() and loadConfig(): addresses, files, encodings and the shell check. */
import assert from "node:assert/strict";
import {
  DEFAULT_CONFIG,
  loadConfig,
  parseConfig,
} from "../../../src/config/config.ts";
import { parseListenAddress } from "../../../src/config/listen_address.ts";
import { tempDir } from "../../_helpers/fs.ts";
import { assertLoadError } from "./_config.ts";

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
