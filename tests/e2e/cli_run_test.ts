/** The daemon's life from the command line: startup lines and readiness, signals, restarts, dump and unreadable files (spec: configuration.md §1, §5). */
import assert from "node:assert/strict";
import { converse } from "../_helpers/client.ts";
import { DaemonProcess, runZtick } from "../_helpers/subprocess.ts";
import { withTempDir } from "../_helpers/fs.ts";
import { writeConfig } from "./_cli.ts";

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
