/**
 * The durable logfile through the real daemon process: compaction output,
 * file mode and replay warnings (spec: persistence.md §6, §7, §8); read-only
 * mode on a full filesystem is in durability_disk_test.ts.
 */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { DaemonProcess, runZtick } from "../_helpers/subprocess.ts";
import { exists, readRecords, withTempDir } from "../_helpers/fs.ts";
import {
  assertSameLines,
  assertState,
  FAR_NS,
  Model,
  stat,
  statValue,
  writeConfig,
} from "../_helpers/model.ts";
import { ENCODER, get } from "./_durability.ts";

// ------------------------------------------------------------------ compaction

Deno.test("compaction after 10,000 SETs leaves one canonical line per live job and rule, as dump --compact of the old file", async () => {
  await withTempDir("ztick-durability-", async (dir) => {
    const logfile = `${dir}/logfile`;
    const model = new Model();
    const lines: string[] = [];
    let n = 0;
    const next = () => `r${n++}`;
    lines.push(
      model.setRule(next(), "rule.a", {
        pattern: "a.",
        runner: ["shell", "echo a b"],
      }),
      model.setRule(next(), "rule.b", {
        pattern: "b.",
        runner: ["direct", "/bin/echo", "x y", ""],
      }),
      model.setRule(next(), "rule.c", {
        pattern: "c.",
        runner: ["http", "POST", "http://127.0.0.1:9/hook"],
      }),
      model.setRule(next(), "rule.d", {
        pattern: "d.",
        runner: ["shell", "true"],
      }),
      model.setRule(next(), "rule.e", {
        pattern: "e.",
        runner: ["redis", "redis://127.0.0.1:6379/0", "RPUSH", "queue"],
      }),
    );
    // Ids that need quoting, and ids whose UTF-16 order is not byte order.
    const odd = ["job\\x.1", 'q"id.1', "job.é", "job.ｚ", "job.😀"];
    let sets = 0;
    odd.forEach((id, i) => {
      lines.push(model.setJob(next(), id, FAR_NS + BigInt(i)));
      sets++;
    });
    // Due at once and matched by no rule: they end `failed` (persisted).
    for (let i = 0; i < 5; i++) {
      lines.push(model.setJob(next(), `due.${i}`, BigInt(i + 1)));
      model.jobs.set(`due.${i}`, { ns: BigInt(i + 1), status: "failed" });
      sets++;
    }
    // Shuffled ids, so nothing arrives in sorted order.
    const ids = Array.from(
      { length: 8990 },
      (_, i) => `job.${(i * 7919) % 8990}`,
    );
    for (const id of ids) {
      lines.push(model.setJob(next(), id, FAR_NS + BigInt(sets++)));
    }
    for (let i = 0; i < 1000; i++) {
      const id = ids[(i * 13) % ids.length]!;
      lines.push(model.setJob(next(), id, FAR_NS - BigInt(sets++)));
    }
    assert.equal(sets, 10_000);
    for (let i = 0; i < 500; i++) {
      lines.push(model.removeJob(next(), ids[(i * 17) % ids.length]!));
    }
    lines.push(
      model.setRule(next(), "rule.d", {
        pattern: "d.x",
        runner: ["shell", 'echo "q" \\ done'],
      }),
      model.removeRule(next(), "rule.e"),
    );

    const before = await writeConfig(dir, "before.toml");
    const first = await DaemonProcess.start(before);
    try {
      const answer = await converse(first.port, lines.join("\n") + "\n");
      const expected = Array.from({ length: n }, (_, i) => `r${i} OK`);
      assertSameLines(answer.split("\n").slice(0, -1), expected, "answers");
      await waitFor(
        async () =>
          await statValue(first.port, "jobs_failed") === "5" || undefined,
        { what: "the due jobs to fail" },
      );
      assert.equal(await first.stop("SIGTERM"), 0);
    } finally {
      await first.stop("SIGKILL");
    }
    const old = `${dir}/old-logfile`;
    await Deno.copyFile(logfile, old);
    assert.ok(
      (await Deno.readTextFile(old)).split("\n").length > n,
      "the old logfile should hold every record",
    );

    const after = await writeConfig(dir, "after.toml", {
      compressionIntervalS: 1,
    });
    const canonical = model.canonicalLines();
    let compacted: string[] = [];
    const daemon = await DaemonProcess.start(after);
    try {
      await waitFor(
        async () =>
          await statValue(daemon.port, "compression") === "success" ||
          undefined,
        { what: "STAT compression success" },
      );
      const counts = await stat(daemon.port);
      const text = await Deno.readTextFile(logfile);
      assert.ok(text.endsWith("\n"));
      compacted = text.slice(0, -1).split("\n");
      // After the jobs, the `no-rule` run of each due job (extensions.md §5).
      const runs = compacted.filter((line) => line.startsWith("RUN "));
      const fileLines = compacted.slice(0, compacted.length - runs.length);
      assert.equal(
        fileLines.length,
        Number(counts.get("rules_total")) + Number(counts.get("jobs_total")),
        "one line per live rule and job",
      );
      assert.equal(counts.get("rules_total"), "4");
      assert.equal(counts.get("jobs_total"), String(model.jobs.size));
      assertSameLines(fileLines, canonical, "compacted logfile");
      assert.deepEqual(
        runs.map((line) =>
          line.replace(
            /^RUN (due\.\d) 1 (\d+) \2 failed "" no-rule "no rule matches"$/,
            "$1",
          )
        ),
        ["due.0", "due.1", "due.2", "due.3", "due.4"],
      );
      assert.equal((await Deno.stat(logfile)).mode! & 0o777, 0o600);
      await assertState(daemon.port, model, "after compaction");
    } finally {
      // Compactions run every second: a stop abandons the one under way
      // and removes its temp file.
      assert.equal(await daemon.stop("SIGTERM"), 0);
    }
    assert.equal(await exists(`${logfile}.compact`), false);

    // dump --compact keeps the order of the last records: compare as sets.
    const dump = await runZtick(["dump", old, "--compact"]);
    assert.equal(dump.code, 0);
    assert.equal(dump.stderr, "");
    assert.ok(dump.stdout.endsWith("\n"));
    assertSameLines(
      dump.stdout.slice(0, -1).split("\n").sort(),
      [...compacted].sort(),
      "dump --compact of the old logfile",
    );
  });
});

// ------------------------------------------------------ file mode and replay

Deno.test("the daemon creates its logfile with mode 0600", async () => {
  await withTempDir("ztick-durability-", async (dir) => {
    const logfile = `${dir}/logfile`;
    const daemon = await DaemonProcess.start(await writeConfig(dir, "c.toml"));
    try {
      assert.equal((await Deno.stat(logfile)).mode! & 0o777, 0o600);
      assert.equal(
        await converse(daemon.port, `r SET a.1 ${FAR_NS}\n`),
        "r OK\n",
      );
      assert.equal((await Deno.stat(logfile)).mode! & 0o777, 0o600);
    } finally {
      await daemon.stop("SIGKILL");
    }
  });
});

/** The log lines before `loaded …`, and that line. */
function startupLines(log: string): { warnings: string[]; loaded: string } {
  const lines = log.split("\n");
  const index = lines.findIndex((line) => line.startsWith("[INFO] loaded "));
  assert.ok(index >= 0, `no loaded line in:\n${log}`);
  return {
    warnings: lines.slice(0, index).filter((line) =>
      !line.startsWith("[INFO]")
    ),
    loaded: lines[index]!,
  };
}

Deno.test("a torn tail and corrupt lines are logged before the loaded line, and the tail is cut off", async () => {
  await withTempDir("ztick-durability-", async (dir) => {
    const logfile = `${dir}/logfile`;
    // Line 3 does not parse, line 5 is not UTF-8, the last line has no LF.
    const head = [
      "RULE SET rule.a a. shell true",
      `SET a.1 ${FAR_NS} planned`,
      "SET broken.1 not-a-number planned",
      `SET a.2 ${FAR_NS + 1n} planned`,
    ].join("\n") + "\n";
    const tail = ["REMOVE a.1", `SET a.3 ${FAR_NS + 3n} planned`].join("\n") +
      "\n";
    const torn = `SET a.4 ${FAR_NS}`;
    await Deno.writeFile(
      logfile,
      new Uint8Array([
        ...ENCODER.encode(`${head}SET bad.`),
        0xff,
        0xfe,
        ...ENCODER.encode(` ${FAR_NS} planned\n${tail}${torn}`),
      ]),
      { mode: 0o600 },
    );
    const withoutTail = (await Deno.readFile(logfile)).length - torn.length;
    const config = await writeConfig(dir, "c.toml");
    const daemon = await DaemonProcess.start(config);
    let skipped: string[];
    try {
      const { warnings, loaded } = startupLines(daemon.log);
      skipped = warnings.slice(0, 2);
      assert.equal(warnings.length, 3, warnings.join("\n"));
      assert.match(warnings[0]!, /^\[WARN\] logfile: line 3 skipped: \S.*$/);
      assert.equal(
        warnings[1],
        "[WARN] logfile: line 5 skipped: invalid UTF-8",
      );
      assert.equal(
        warnings[2],
        `[WARN] logfile: dropped incomplete last line (${torn.length} bytes)`,
      );
      assert.equal(loaded, "[INFO] loaded 2 jobs, 1 rule");
      assert.equal((await Deno.stat(logfile)).size, withoutTail);
      // The next record starts on a line of its own.
      assert.equal(
        await converse(daemon.port, `r SET a.5 ${FAR_NS}\n`),
        "r OK\n",
      );
      const text = await readRecords(logfile);
      assert.equal(
        text.slice(withoutTail),
        `SET a.5 ${FAR_NS} planned\n`,
      );
      assert.equal(await daemon.stop("SIGTERM"), 0);
    } finally {
      await daemon.stop("SIGKILL");
    }
    // Corrupt lines stay until a compaction; the torn tail is gone for good.
    const again = await DaemonProcess.start(config);
    try {
      const { warnings, loaded } = startupLines(again.log);
      assert.deepEqual(warnings, skipped);
      assert.equal(loaded, "[INFO] loaded 3 jobs, 1 rule");
      assert.equal(await get(again.port, "a.4"), "g ERROR");
      assert.equal(await get(again.port, "a.1"), "g ERROR");
      assert.equal(await get(again.port, "a.5"), `g OK planned ${FAR_NS}`);
    } finally {
      await again.stop("SIGKILL");
    }
  });
});
