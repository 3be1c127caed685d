/** The command line as users run it: version, usage, exit codes and every startup error (spec: configuration.md §1, §3); the running daemon is in cli_run_test.ts. */
import assert from "node:assert/strict";
import { runZtick } from "../_helpers/subprocess.ts";
import { withTempDir } from "../_helpers/fs.ts";
import { writeConfig } from "./_cli.ts";

Deno.test("--version and -v print the version line and exit 0", async () => {
  for (const flag of ["--version", "-v"]) {
    const { code, stdout, stderr } = await runZtick([flag]);
    assert.equal(code, 0);
    assert.equal(stdout, "ztick 0.1.0\n");
    assert.equal(stderr, "");
  }
});

Deno.test("--help, -h, server --help and dump --help print usage and exit 0", async () => {
  for (
    const args of [["--help"], ["-h"], ["server", "--help"], ["dump", "--help"]]
  ) {
    const { code, stdout } = await runZtick(args);
    assert.equal(code, 0, args.join(" "));
    assert.match(stdout, /^usage: ztick/);
    assert.match(stdout, /ztick dump LOGFILE/);
  }
});

Deno.test("usage errors print `error: <problem>` and a usage line, exit 2", async () => {
  const cases: [string[], string][] = [
    [["--frobnicate"], 'error: unknown option "--frobnicate"'],
    [["-c"], 'error: option "-c" needs a value'],
    [["server", "extra"], 'error: unexpected argument "extra"'],
    [
      ["dump", "x.log", "--format", "xml"],
      'error: unknown format "xml" (text or json)',
    ],
    [["dump"], "error: dump needs a LOGFILE"],
  ];
  for (const [args, problem] of cases) {
    const { code, stdout, stderr } = await runZtick(args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    const [first, second, third] = stderr.split("\n");
    assert.equal(first, problem);
    assert.match(second!, /^usage: ztick/);
    assert.equal(third, "");
  }
});

const STARTUP_ERRORS: [string, string][] = [
  [
    "[log]\nlevel = 'loud'",
    "config: [log] level must be one of off, error, warn, info, debug, trace",
  ],
  ["[[log]]\nlevel = 'info'", "config: unknown section [[log]]"],
  ["[log]\nformat = 'xml'", 'config: [log] format must be "text" or "json"'],
  ["[nope]\nx = 1", "config: unknown section [nope]"],
  ["[controller.extra]\nx = 1", "config: unknown section [controller.extra]"],
  ["[database]\nfsync = true", 'config: unknown key "fsync" in [database]'],
  ["stray = 1", 'config: unknown key "stray" at top level'],
  [
    "[database]\nframerate = 512.0",
    "config: [database] framerate must be an integer",
  ],
  [
    "[database]\nfsync_on_persist = 'yes'",
    "config: [database] fsync_on_persist must be a boolean",
  ],
  [
    "[database]\npersistence = 1",
    "config: [database] persistence must be a string",
  ],
  ["[shell]\nargs = '-c'", "config: [shell] args must be an array of strings"],
  [
    "[shell]\npath = '/no/such/shell'",
    'config: [shell] path "/no/such/shell" is not an executable file',
  ],
  [
    "[shell]\npath = 'NOT_EXECUTABLE'",
    'config: [shell] path "NOT_EXECUTABLE" is not an executable file',
  ],
  [
    "[database]\npersistence = 'disk'",
    'config: [database] persistence must be "logfile", "memory" or "postgres"',
  ],
  [
    "[database]\nframerate = 0",
    "config: [database] framerate must be between 1 and 65535",
  ],
  [
    "[database]\nframerate = 65536",
    "config: [database] framerate must be between 1 and 65535",
  ],
  [
    "[database]\ncompression_interval = -1",
    "config: [database] compression_interval must be between 0 and 4294967295",
  ],
  [
    "[database]\ncompression_interval = 4294967296",
    "config: [database] compression_interval must be between 0 and 4294967295",
  ],
  [
    "[telemetry]\nenabled = true",
    "config: [telemetry] endpoint is required when enabled = true",
  ],
  [
    "[telemetry]\nendpoint = 'ftp://x'",
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "[telemetry]\nservice_name = ''",
    "config: [telemetry] service_name must not be empty",
  ],
  [
    "[telemetry]\nflush_interval_ms = 0",
    "config: [telemetry] flush_interval_ms must be between 1 and 4294967295",
  ],
  ["[http]\nlisten = 'nowhere'", 'config: [http] listen must be "host:port"'],
  [
    "[execution]\nconcurrency = 0",
    "config: [execution] concurrency must be between 1 and 1024",
  ],
  [
    "[execution]\nconcurrency = 1025",
    "config: [execution] concurrency must be between 1 and 1024",
  ],
  [
    "[execution]\ntimeout = -5",
    "config: [execution] timeout must be between 0 and 4294967295",
  ],
  [
    "[execution]\non_interrupted = 'ignore'",
    'config: [execution] on_interrupted must be "rerun" or "fail"',
  ],
  [
    "[execution]\nhistory = 1001",
    "config: [execution] history must be between 0 and 1000",
  ],
  [
    "[execution]\nhistory = -1",
    "config: [execution] history must be between 0 and 1000",
  ],
  [
    "[execution]\nretention = '1h30m'",
    "config: [execution] retention must be a duration",
  ],
];

Deno.test("every configuration startup error prints its line and exits 1 (configuration.md §3)", async () => {
  await withTempDir("ztick-cli-", async (dir) => {
    for (const [toml, message] of STARTUP_ERRORS) {
      const path = `${dir}/bad.toml`;
      await Deno.writeTextFile(`${dir}/plain.txt`, "", { mode: 0o644 });
      await Deno.writeTextFile(
        path,
        `${toml.replace("NOT_EXECUTABLE", `${dir}/plain.txt`)}\n`,
      );
      const { code, stdout, stderr } = await runZtick(["-c", path], {
        cwd: dir,
      });
      assert.equal(
        stderr,
        `error: ${message.replace("NOT_EXECUTABLE", `${dir}/plain.txt`)}\n`,
        toml,
      );
      assert.equal(code, 1, toml);
      assert.equal(stdout, "");
    }
  });
});

Deno.test("startup errors of the file itself, the listen address, the logfile and the port", async () => {
  await withTempDir("ztick-cli-", async (dir) => {
    const missing = await runZtick(["-c", `${dir}/absent.toml`]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      new RegExp(`^error: config: cannot read ${dir}/absent.toml: .+\n$`),
    );

    await Deno.writeTextFile(`${dir}/syntax.toml`, "[log\nlevel = 1\n");
    const syntax = await runZtick(["-c", `${dir}/syntax.toml`]);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /^error: config: invalid TOML: .+\n$/);

    await Deno.writeTextFile(
      `${dir}/listen.toml`,
      "[controller]\nlisten = '127.0.0.1'\n",
    );
    const listen = await runZtick(["-c", `${dir}/listen.toml`]);
    assert.equal(
      listen.stderr,
      'error: config: [controller] listen must be "host:port"\n',
    );

    await Deno.writeTextFile(
      `${dir}/log.toml`,
      `[database]\nlogfile_path = ""\n`,
    );
    const empty = await runZtick(["-c", `${dir}/log.toml`]);
    assert.equal(
      empty.stderr,
      "error: config: [database] logfile_path must not be empty\n",
    );

    const noDir = await writeConfig(dir, "", "127.0.0.1:0");
    await Deno.writeTextFile(
      noDir,
      `[log]\nlevel = "off"\n[database]\nlogfile_path = "${dir}/no/such/dir/logfile"\n`,
    );
    const logfile = await runZtick(["-c", noDir]);
    assert.equal(logfile.code, 1);
    assert.match(
      logfile.stderr,
      new RegExp(
        `^error: logfile: cannot open ${dir}/no/such/dir/logfile: .+\n$`,
      ),
    );

    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const inUse = await writeConfig(
        dir,
        '[log]\nlevel = "off"\n',
        `127.0.0.1:${taken.addr.port}`,
      );
      const busy = await runZtick(["-c", inUse]);
      assert.equal(busy.code, 1);
      assert.match(
        busy.stderr,
        new RegExp(`^error: listen 127.0.0.1:${taken.addr.port}: .+\n$`),
      );
    } finally {
      taken.close();
    }
  });
});
