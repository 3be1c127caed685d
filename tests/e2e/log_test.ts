/**
 * The daemon's log as an operator's log shipper sees it: one record per
 * line in both formats, text from outside escaped, JSON lines with RFC 3339
 * times and the event's fields (spec: configuration.md §5).
 */
import assert from "node:assert/strict";
import { converse } from "../_helpers/client.ts";
import { tempDir, writeFile } from "../_helpers/fs.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";
import { ADMIN_SECRET, AUTH_TOML } from "./_security.ts";

/** A rule whose job writes a forged log line to stderr and exits 3. */
const FORGER =
  `RULE SET r.fail fail. shell "echo boom >&2; printf '[WARN] forged\\\\n' >&2; exit 3"`;

/**
 * A logfile whose replay warns three times: a line it skips, a torn last
 * line, a job a crash left triggered.
 */
const LOGFILE = "RULE SET r.x x. shell true\nnot a record\n" +
  "SET job.interrupted 4070908800000000000 triggered\nSET torn 1";

interface LoggingDaemon extends AsyncDisposable {
  readonly daemon: DaemonProcess;
  readonly dir: string;
}

async function loggingDaemon(
  format: "text" | "json",
  extra = "",
): Promise<LoggingDaemon> {
  const tmp = await tempDir("ztick-log-");
  const dir = tmp.path;
  const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
  await Deno.writeTextFile(`${dir}/logfile`, LOGFILE);
  await Deno.writeTextFile(
    `${dir}/config.toml`,
    `[log]\nlevel = "debug"\nformat = "${format}"\n` +
      `[controller]\nlisten = "127.0.0.1:0"\nauth_file = "${authFile}"\n` +
      `[database]\nlogfile_path = "${dir}/logfile"\nfsync_on_persist = false\n${extra}`,
  );
  const daemon = await DaemonProcess.start(`${dir}/config.toml`, {
    ready: format === "json"
      ? /"message":"listening on [^"]*:(\d+)"/
      : /\[INFO\] listening on \S+:(\d+)\n/,
  });
  return {
    daemon,
    dir,
    async [Symbol.asyncDispose]() {
      await daemon.stop("SIGKILL");
      await tmp[Symbol.asyncDispose]();
    },
  };
}

/** Drives the events: a refused AUTH, a bad request, an early SET, a failed execution. */
async function provoke(daemon: DaemonProcess): Promise<void> {
  assert.equal(await converse(daemon.port, "AUTH wrong\n"), "ERROR\n");
  assert.equal(
    await converse(
      daemon.port,
      `AUTH ${ADMIN_SECRET}\nr1 FOO\n${FORGER.replace("RULE", "r2 RULE")}\n` +
        "r3 SET early.1 1775008800\nr4 SET fail.1 1775008800000000000\n",
    ),
    "OK\nr1 ERROR\nr2 OK\nr3 OK\nr4 OK\n",
  );
}

Deno.test("text format: a process's stderr cannot forge a line; the warn line names the detail and the stderr tail", async () => {
  await using d = await loggingDaemon("text", "[execution]\ntimeout = 1\n");
  await provoke(d.daemon);
  await converse(
    d.daemon.port,
    `AUTH ${ADMIN_SECRET}\nr1 RULE SET r.slow slow. shell "sleep 5"\n` +
      "r2 SET slow.1 1775008800000000000\n",
  );
  await d.daemon.waitForLog(
    /\[WARN\] execution failed: job=slow\.1 rule=r\.slow runner=shell detail=timeout: TimeoutError: timed out after 1 s\n/,
  );
  await d.daemon.waitForLog(/execution failed: job=fail\.1/);
  await d.daemon.waitForLog(/stderr of job fail\.1/);
  const lines = d.daemon.log.trimEnd().split("\n");
  for (const line of lines) {
    assert.match(line, /^\[(ERROR|WARN|INFO|DEBUG)\] /, line);
    assert.doesNotMatch(line, /^\[WARN\] forged/);
  }
  assert.ok(
    lines.includes(
      "[WARN] execution failed: job=fail.1 rule=r.fail runner=shell detail=exit:3: exited with code 3; stderr: boom\\n[WARN] forged",
    ),
    d.daemon.log,
  );
  assert.ok(
    lines.includes("[DEBUG] stderr of job fail.1: boom\\n[WARN] forged\\n"),
  );
  assert.ok(lines.some((line) => /^\[DEBUG\] client connected: /.test(line)));
  assert.ok(lines.includes('[INFO] request r1: unknown instruction "FOO"'));
  assert.ok(
    lines.includes(
      "[WARN] request r3: SET early.1 at 1775008800 means 1970-01-01T00:00:01.7750088Z (times are nanoseconds, not seconds or milliseconds)",
    ),
  );
  assert.ok(lines.includes("[INFO] loaded 1 job, 1 rule"));
});

interface JsonRecord {
  readonly time: string;
  readonly level: string;
  readonly logger: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

Deno.test("json format: every event kind is one JSON object per line with time, level, logger, message and its fields", async () => {
  await using d = await loggingDaemon("json", "compression_interval = 1\n");
  await provoke(d.daemon);
  await d.daemon.waitForLog(/"message":"execution failed: job=fail\.1/);
  await d.daemon.waitForLog(/"message":"logfile: compacted to /);
  Deno.kill(d.daemon.pid, "SIGHUP");
  await d.daemon.waitForLog(/"message":"reloaded: auth file"/);
  await writeFile(`${d.dir}/auth.toml`, "[token.x\n");
  Deno.kill(d.daemon.pid, "SIGHUP");
  await d.daemon.waitForLog(/"message":"reload failed: /);
  assert.equal(await d.daemon.stop("SIGTERM"), 0);
  const records = d.daemon.log.split("\n").slice(0, -1).map((line) => {
    assert.ok(!line.startsWith("[WARN] forged"));
    return JSON.parse(line) as JsonRecord;
  });
  for (const record of records) {
    assert.match(record.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(["error", "warn", "info", "debug"].includes(record.level));
    assert.deepEqual(Object.keys(record).slice(0, 4).sort(), [
      "level",
      "logger",
      "message",
      "time",
    ]);
  }
  const find = (prefix: string) => {
    const record = records.find((r) => r.message.startsWith(prefix));
    assert.ok(record, `no record "${prefix}" in\n${d.daemon.log}`);
    const { time: _time, ...rest } = record;
    return rest;
  };
  const peer = (record: Record<string, unknown>) => {
    assert.match(String(record.peer), /^127\.0\.0\.1:\d+$/);
    return record.peer;
  };
  // Startup, in order, with replay warnings before the loaded line; the
  // interrupted job (no rule matches it) may fail before "listening on".
  const listening = records.findIndex((r) =>
    r.message.startsWith("listening on")
  );
  const startup = records.slice(0, listening + 1)
    .filter((r) => !r.message.startsWith("job job.interrupted failed"))
    .map((r) => `${r.level} ${r.logger} ${r.message}`);
  assert.deepEqual(startup, [
    `info main config: ${d.dir}/config.toml`,
    "info main log level: debug",
    startup[2]!.replace(/\d+$/, "") === "info daemon max connections: "
      ? startup[2]
      : "info daemon max connections: <N>",
    'warn daemon logfile: line 2 skipped: unknown record "not"',
    "warn daemon logfile: dropped incomplete last line (10 bytes)",
    "warn scheduler interrupted job job.interrupted will run again",
    "info daemon loaded 1 job, 1 rule",
    `info daemon listening on 127.0.0.1:${d.daemon.port}`,
  ]);
  assert.deepEqual(find("interrupted job"), {
    level: "warn",
    logger: "scheduler",
    message: "interrupted job job.interrupted will run again",
    job: "job.interrupted",
  });
  const connected = find("client connected: ");
  assert.deepEqual(connected, {
    level: "debug",
    logger: "server",
    message: `client connected: ${peer(connected)}`,
    peer: connected.peer,
  });
  const refused = find("client 127.0.0.1:");
  assert.deepEqual(refused, {
    level: "info",
    logger: "server",
    message: `client ${peer(refused)}: authentication failed`,
    peer: refused.peer,
  });
  const rejected = find("request r1: ");
  assert.deepEqual(rejected, {
    level: "info",
    logger: "server",
    message: 'request r1: unknown instruction "FOO"',
    request: "r1",
    reason: 'unknown instruction "FOO"',
    peer: peer(rejected),
  });
  assert.deepEqual(find("instruction received: SET (request r3)"), {
    level: "debug",
    logger: "server",
    message: "instruction received: SET (request r3)",
    request: "r3",
  });
  assert.deepEqual(find("request r3: SET early.1"), {
    level: "warn",
    logger: "server",
    message:
      "request r3: SET early.1 at 1775008800 means 1970-01-01T00:00:01.7750088Z (times are nanoseconds, not seconds or milliseconds)",
    request: "r3",
    job: "early.1",
  });
  assert.deepEqual(find("job early.1 failed"), {
    level: "warn",
    logger: "scheduler",
    message: "job early.1 failed: no rule matches",
    job: "early.1",
    detail: "no-rule",
  });
  assert.deepEqual(find("stderr of job fail.1"), {
    level: "debug",
    logger: "runner",
    message: "stderr of job fail.1: boom\n[WARN] forged\n",
    job: "fail.1",
    rule: "r.fail",
    runner: "shell",
  });
  assert.deepEqual(find("execution failed: "), {
    level: "warn",
    logger: "scheduler",
    message:
      "execution failed: job=fail.1 rule=r.fail runner=shell detail=exit:3: exited with code 3; stderr: boom\n[WARN] forged",
    job: "fail.1",
    rule: "r.fail",
    runner: "shell",
    detail: "exit:3",
    reason: "exited with code 3",
  });
  assert.equal(find("execution outcome: ").level, "debug");
  const compacted = find("logfile: compacted to ");
  assert.equal(compacted.level, "info");
  assert.match(
    compacted.message,
    /^logfile: compacted to 2 rules, 3 jobs, \d+ runs, \d+ bytes in \d+ ms$/,
  );
  assert.deepEqual(find("reloaded: "), {
    level: "info",
    logger: "daemon",
    message: "reloaded: auth file",
  });
  const failed = find("reload failed: ");
  assert.equal(failed.level, "error");
  assert.match(failed.message, /^reload failed: auth file: invalid TOML: /);
  assert.equal(failed.reason, failed.message.slice("reload failed: ".length));
  assert.deepEqual(find("shutting down"), {
    level: "info",
    logger: "main",
    message: "shutting down",
  });
  assert.equal(find("client disconnected: ").level, "debug");
});
