/**
 * What ships besides the code: the LICENSE, the systemd unit, the
 * dependency split between deno.lock (the daemon's) and dev.lock (tests
 * and tools), the compile task, the README's install commands.
 */
import assert from "node:assert/strict";
import { brokerGate, gatedTest } from "../_helpers/brokers.ts";
import { tempDir } from "../_helpers/fs.ts";
import { checkDenort, startFlags } from "../../tools/compile.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const UNIT = `${ROOT}contrib/systemd/ztick.service`;
const CONFIG = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
const START_FLAGS = startFlags(CONFIG.tasks.start);

Deno.test("LICENSE is the MIT license", async () => {
  const text = await Deno.readTextFile(`${ROOT}LICENSE`);
  assert.match(text, /^MIT License\n\nCopyright \(c\) \d{4} /);
  assert.match(
    text,
    /THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND/,
  );
});

/** The unit's `Key=value` lines of [Service]. */
async function serviceKeys(): Promise<Map<string, string>> {
  const text = await Deno.readTextFile(UNIT);
  const service = text.split(/^\[Service\]$/m)[1]!.split(/^\[/m)[0]!;
  const keys = new Map<string, string>();
  for (const line of service.split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) keys.set(match[1]!, match[2]!);
  }
  return keys;
}

Deno.test("the systemd unit runs the compiled binary as a dedicated user, hardened, stopping after the 5 s grace", async () => {
  const keys = await serviceKeys();
  assert.equal(
    keys.get("ExecStart"),
    "/usr/local/bin/ztick -c /etc/ztick/ztick.toml",
  );
  assert.equal(keys.get("User"), "ztick");
  assert.equal(keys.get("Restart"), "on-failure");
  assert.equal(keys.get("KillMode"), "mixed"); // SIGTERM to the daemon, not to its jobs
  assert.ok(Number(keys.get("TimeoutStopSec")) > 5);
  for (
    const [key, value] of [
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["ReadWritePaths", "/var/lib/ztick"],
      ["PrivateTmp", "yes"],
      ["ProtectHome", "yes"],
    ]
  ) {
    assert.equal(keys.get(key!), value, key);
  }
  // V8's JIT needs memory that is writable, then executable.
  assert.equal(keys.get("MemoryDenyWriteExecute"), undefined);
  assert.equal(keys.get("SystemCallFilter"), undefined);
});

const analyze = await new Deno.Command("systemd-analyze", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((output) => output.success, () => false);

gatedTest(
  brokerGate("systemd-analyze", analyze),
  "systemd-analyze verify accepts the unit (the binary's path pointed at a stand-in)",
  async () => {
    await using tmp = await tempDir("ztick-unit-");
    // verify insists that ExecStart's program exists; nothing else changes.
    const binary = `${tmp.path}/ztick`;
    await Deno.writeTextFile(binary, "#!/bin/sh\n", { mode: 0o755 });
    const unit = `${tmp.path}/ztick.service`;
    const text = await Deno.readTextFile(UNIT);
    await Deno.writeTextFile(
      unit,
      text.replaceAll("/usr/local/bin/ztick", binary),
    );
    const { code, stdout, stderr } = await new Deno.Command("systemd-analyze", {
      args: ["verify", "--man=no", unit],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(stdout) +
      new TextDecoder().decode(stderr);
    assert.equal(code, 0, output);
    assert.equal(output, "");
  },
);

Deno.test("deno.lock and deno.json imports hold only the daemon's packages; dev.lock adds the tests' and tools'", async () => {
  // `deno task` installs every npm package of deno.lock first, so a test's
  // package there would be downloaded by `deno task start` too.
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}deno.lock`));
  // OpenTelemetry (issue 13): the SDK, loaded only when telemetry is on.
  const otel = [
    "api@1.10.0",
    "core@3.1.0",
    "otlp-exporter-base@0.301.0",
    "otlp-transformer@0.301.0",
    "resources@3.1.0",
    "sdk-logs@3.1.0",
    "sdk-metrics@3.1.0",
    "sdk-trace@3.1.0",
  ].map((name) => `@opentelemetry/${name}`);
  // croner (issue 14): cron expressions of recurring jobs; PostgreSQL's
  // client (issue 15), loaded only in postgres mode.
  const daemon = [
    "@logtape/logtape@2.4.2",
    ...otel,
    "croner@11.0.1",
    "postgres@3.4.9",
    "smol-toml@1.9.1",
  ];
  const peer = "_@opentelemetry+api@1.10.0";
  assert.deepEqual(
    Object.keys(lock.npm ?? {}).map((key) => key.replace(peer, "")).sort(),
    [...daemon, "@opentelemetry/semantic-conventions@1.45.0"].sort(),
    "deno.lock gained a package: if a test or tool added it, `git checkout deno.lock` and run it with --lock=dev.lock (deno task test, deno task sizes)",
  );
  assert.deepEqual(
    Object.values(CONFIG.imports).sort(),
    daemon.map((name) => `npm:${name}`),
  );
  const dev = JSON.parse(await Deno.readTextFile(`${ROOT}dev.lock`));
  const direct = [
    ...daemon,
    "@readme/openapi-parser@9.0.0",
    "amqplib@2.3.1",
    "playwright-core@1.65.1",
    "typescript@5.9.3",
  ].map((name) => `npm:${name}`);
  assert.deepEqual(Object.keys(dev.specifiers).sort(), direct.sort());
  for (const task of ["test", "bench", "sizes"]) {
    assert.match(
      CONFIG.tasks[task],
      /^deno (test|run) --lock=dev\.lock /,
      task,
    );
  }
});

Deno.test("the compile task refuses a DENORT_BIN that is the deno CLI or missing, without a backtrace", async () => {
  assert.match(
    String(await checkDenort(Deno.execPath())),
    /is the deno CLI \(deno \d/,
  );
  assert.match(String(await checkDenort("/no/such/denort")), /does not exist/);
  for (const denort of [Deno.execPath(), "/no/such/denort"]) {
    const { code, stderr } = await compileTask({ DENORT_BIN: denort });
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`^error: DENORT_BIN=${denort} `, "m"));
    assert.match(stderr, /set DENORT_BIN=\/path\/to\/denort/);
    assert.doesNotMatch(stderr, /backtrace/i);
  }
});

Deno.test("the compile task says what denort is and where it comes from when it cannot be downloaded", async () => {
  await using tmp = await tempDir("ztick-compile-");
  // A proxy that refuses: the download fails at once, as offline.
  const { code, stderr } = await compileTask(
    { HTTPS_PROXY: "http://127.0.0.1:9", https_proxy: "http://127.0.0.1:9" },
    ["-o", `${tmp.path}/ztick`],
  );
  if (code === 0) {
    // A denort was cached already: then the executable must work.
    const version = await new Deno.Command(`${tmp.path}/ztick`, {
      args: ["--version"],
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(version.stdout), "ztick 0.1.0\n");
    return;
  }
  assert.equal(code, 1);
  assert.match(stderr, /dl\.deno\.land/);
  assert.match(stderr, /deno compile needs denort \d+\.\d+\.\d+ for /);
  assert.doesNotMatch(stderr, /backtrace|<unknown>/i);
});

Deno.test("the compile task passes the start task's permissions and V8 flags", () => {
  assert.deepEqual(startFlags(CONFIG.tasks.start), START_FLAGS);
  assert.ok(START_FLAGS.includes("--allow-net"));
  assert.ok(START_FLAGS.some((flag) => flag.startsWith("--v8-flags=")));
  assert.ok(START_FLAGS.some((flag) => flag.startsWith("--allow-env=")));
  assert.match(CONFIG.tasks.compile, / tools\/compile\.ts$/);
});

Deno.test("the README's install commands carry the start task's permissions and V8 flags", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const flags = START_FLAGS.join(" ");
  const install = readme.split("\n").filter((line) =>
    /^deno install -g /.test(line.trim())
  );
  assert.ok(install.length > 0, "no deno install -g line");
  for (const line of install) assert.ok(line.includes(flags), line);
  const bundle = readme.split("\n").filter((line) =>
    / dist\/ztick\.js/.test(line) && /^deno run /.test(line.trim())
  );
  assert.ok(bundle.length > 0, "no deno run … dist/ztick.js line");
  for (const line of bundle) assert.ok(line.includes(flags), line);
});

async function compileTask(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number; stderr: string }> {
  const words = CONFIG.tasks.compile.split(" ");
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...words.slice(1), ...args],
    cwd: ROOT,
    env: { RUST_BACKTRACE: "1", ...env },
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}
