/** The command line as users run it: exit codes, startup errors, signals (spec: configuration.md §1, §3, §5). */
import assert from "node:assert/strict";
import { converse } from "../_helpers/client.ts";
import { DaemonProcess, runZtick } from "../_helpers/subprocess.ts";
import { withTempDir } from "../_helpers/fs.ts";

/** Writes a config file listening on a free port with its logfile in `dir`. */
async function writeConfig(
  dir: string,
  extra = "",
  listen = "127.0.0.1:0",
): Promise<string> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(
    path,
    `[controller]\nlisten = "${listen}"\n[database]\nlogfile_path = "${dir}/logfile"\n${extra}`,
  );
  return path;
}

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

Deno.test("the startup lines come in the spec's order, readiness last; SIGTERM exits 0", async () => {
  await withTempDir("ztick-cli-", async (dir) => {
    const config = await writeConfig(dir);
    const daemon = await DaemonProcess.start(config);
    const lines = daemon.log.trimEnd().split("\n");
    assert.equal(lines[0], `[INFO] config: ${config}`);
    assert.equal(lines[1], "[INFO] log level: info");
    assert.equal(lines.at(-2), "[INFO] loaded 0 jobs, 0 rules");
    assert.equal(lines.at(-1), `[INFO] listening on 127.0.0.1:${daemon.port}`);
    assert.equal(await converse(daemon.port, "r1 GET x\n"), "r1 ERROR\n");
    assert.equal(await daemon.stop("SIGTERM"), 0);
    assert.match(daemon.log, /\[INFO\] shutting down\n/);
  });
});

Deno.test("SIGINT also stops the daemon with exit 0", async () => {
  await withTempDir("ztick-cli-", async (dir) => {
    const daemon = await DaemonProcess.start(await writeConfig(dir));
    assert.equal(await daemon.stop("SIGINT"), 0);
  });
});

Deno.test("a restart after SIGTERM keeps every job, rule and status; executed jobs do not run again", async () => {
  await withTempDir("ztick-cli-", async (dir) => {
    const config = await writeConfig(dir);
    const counter = `${dir}/runs`;
    const now = BigInt(Date.now()) * 1_000_000n;
    let daemon = await DaemonProcess.start(config);
    assert.equal(
      await converse(
        daemon.port,
        `r1 RULE SET rule.count count. shell "echo x >> ${counter}"\n` +
          `r2 SET count.now ${now}\nr3 SET later.job 2099-01-01 00:00:00\nr4 SET nope.job ${now}\n` +
          `r5 SET gone 2099-01-01 00:00:00\nr6 REMOVE gone\nr7 RULE SET tmp t. shell true\nr8 REMOVERULE tmp\n`,
      ),
      "r1 OK\nr2 OK\nr3 OK\nr4 OK\nr5 OK\nr6 OK\nr7 OK\nr8 OK\n",
    );
    for (;;) {
      const answer = await converse(
        daemon.port,
        "g GET count.now\ng2 GET nope.job\n",
      );
      if (answer.includes("g OK executed") && answer.includes("g2 OK failed")) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await daemon.stop("SIGTERM"), 0);

    daemon = await DaemonProcess.start(config);
    try {
      assert.match(daemon.log, /\[INFO\] loaded 3 jobs, 1 rule\n/);
      const state = await converse(
        daemon.port,
        "a GET count.now\nb GET later.job\nc GET nope.job\nd GET gone\ne LISTRULES\n",
      );
      assert.equal(
        state,
        `a OK executed ${now}\nb OK planned 4070908800000000000\nc OK failed ${now}\nd ERROR\n` +
          `e rule.count count. shell echo x >> ${counter}\ne OK\n`,
      );
      const stat = await converse(daemon.port, "s STAT\n");
      assert.match(stat, /s jobs_executed 1\n/);
      assert.equal(
        await Deno.readTextFile(counter),
        "x\n",
        "the executed job ran once",
      );
    } finally {
      await daemon.stop("SIGTERM");
    }
    assert.equal(await Deno.readTextFile(counter), "x\n");
  });
});

Deno.test("a job left triggered by a crash runs again once at the next start", async () => {
  await withTempDir("ztick-cli-", async (dir) => {
    const config = await writeConfig(dir);
    const counter = `${dir}/runs`;
    await Deno.writeTextFile(
      `${dir}/logfile`,
      `RULE SET r job. shell "echo x >> ${counter}"\nSET job.1 1775008800000000000 triggered\n`,
    );
    const daemon = await DaemonProcess.start(config);
    try {
      assert.match(
        daemon.log,
        /\[WARN\] interrupted job job.1 will run again\n\[INFO\] loaded 1 job, 1 rule\n/,
      );
      for (;;) {
        if (
          (await converse(daemon.port, "g GET job.1\n")) ===
            "g OK executed 1775008800000000000\n"
        ) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(await Deno.readTextFile(counter), "x\n");
    } finally {
      await daemon.stop("SIGTERM");
    }
  });
});

Deno.test("dump prints a logfile through the command line", async () => {
  await withTempDir("ztick-cli-", async (dir) => {
    await Deno.writeTextFile(
      `${dir}/logfile`,
      "SET a 1 planned\nREMOVE a\nSET b 2 executed\n",
    );
    const text = await runZtick(["dump", `${dir}/logfile`]);
    assert.equal(text.code, 0);
    assert.equal(text.stdout, "SET a 1 planned\nREMOVE a\nSET b 2 executed\n");
    const json = await runZtick([
      "dump",
      "--compact",
      `${dir}/logfile`,
      "--format=json",
    ]);
    assert.equal(
      json.stdout,
      '{"type":"set","identifier":"b","execution":2,"status":"executed"}\n',
    );
    const missing = await runZtick(["dump", `${dir}/absent`]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `error: file not found: ${dir}/absent\n`);
  });
});

Deno.test("an unreadable config or auth file stops the daemon with `cannot read … Permission denied`", async () => {
  // Root reads mode-000 files; without the DAC capabilities it gets EACCES
  // like any other user, so under root the daemon runs through setpriv.
  const asRoot = Deno.uid() === 0;
  const prefix = asRoot
    ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    : [];
  await withTempDir("ztick-cli-", async (dir) => {
    const locked = `${dir}/locked.toml`;
    await Deno.writeTextFile(locked, "", { mode: 0o000 });
    const withAuth = await writeConfig(dir, "", "127.0.0.1:0");
    await Deno.writeTextFile(
      withAuth,
      `[controller]\nlisten = "127.0.0.1:0"\nauth_file = "${locked}"\n`,
    );
    for (
      const [config, message] of [[locked, "config"], [
        withAuth,
        "auth file",
      ]] as const
    ) {
      const [program, ...args] = [
        ...prefix,
        Deno.execPath(),
        "run",
        "-A",
        "main.ts",
        "-c",
        config,
      ];
      const output = await new Deno.Command(program!, {
        args,
        cwd: new URL("../..", import.meta.url).pathname,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      // The auth file is read after logging starts: info lines come first.
      assert.equal(
        new TextDecoder().decode(output.stderr).split("\n").at(-2),
        `error: ${message}: cannot read ${locked}: Permission denied (os error 13)`,
      );
      assert.equal(output.code, 1);
    }
  });
});
