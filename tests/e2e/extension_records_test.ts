/**
 * Logfiles with and without extension records through replay, compaction
 * and dump (spec: persistence.md §3–§10, extensions.md §5).
 */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { runZtick } from "../_helpers/subprocess.ts";

/** persistence.md §9, today's format: no extension record. */
const OLD_LOG = `RULE SET rule.backup backup. shell /usr/local/bin/backup.sh
SET backup.daily 1775008800000000000 planned
RULE SET rule.events events. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due
SET backup.daily 1775008800000000000 triggered
SET backup.daily 1775008800000000000 executed
RULE SET rule.report report. shell "/usr/bin/report --title \\"Q1\\""
SET report.q1 1775030400000000000 planned
SET mail.welcome 1775030400000000000 failed
REMOVE report.q1
REMOVERULE rule.events
`;
const OLD_COMPACTED =
  `RULE SET rule.backup backup. shell /usr/local/bin/backup.sh
RULE SET rule.report report. shell "/usr/bin/report --title \\"Q1\\""
SET backup.daily 1775008800000000000 executed
SET mail.welcome 1775030400000000000 failed
`;

/** Extension records of every kind, with runs the replay must drop or trim. */
const EXT_LOG = [
  "RULE SET rule.hook hook. retries=5 backoff=30s max_backoff=10m timeout=0s http POST http://127.0.0.1:9/hook",
  "RULE SET rule.plain p. shell true",
  "SET hook.1 1775008800000000000 planned",
  "SET hook.1 1775008800000000000 triggered",
  'RUN hook.1 1 1775008800000412000 1775008801234000000 failed rule.hook http:503 "http://127.0.0.1:9/hook answered 503"',
  "SET hook.1 1775008832000000000 planned attempt=2",
  "SET hook.1 1775008832000000000 triggered attempt=2",
  'RUN hook.1 2 1775008832000100000 1775008832500000000 failed rule.hook http:503 "http://127.0.0.1:9/hook answered 503"',
  "SET hook.1 4102444860000000000 planned attempt=3",
  'RUN ghost 1 1 2 failed "" no-rule "no rule matches"',
  "SET p.gone 1775008800000000000 failed",
  'RUN p.gone 1 3 4 failed "" no-rule "no rule matches"',
  "REMOVE p.gone",
  "SET p.kept 1775008800000000000 executed",
  'RUN p.kept 1 5 6 failed rule.plain exit:3 "exited with code 3: \\"quoted\\" \\\\ back\tslash é"',
  'RUN p.kept 2 7 8 executed rule.plain exit:0 ""',
  "SET p.kept 4102444800000000000 planned",
  "",
].join("\n");

async function answers(port: number): Promise<string> {
  return await converse(
    port,
    "a LISTRULES\nb QUERY\nc HISTORY hook.1\nd HISTORY p.kept\ne GET hook.1\n",
  );
}

function sorted(text: string): string[] {
  return text.split("\n").filter((line) => line !== "").sort();
}

Deno.test("an old logfile (no extension records) replays, compacts and dumps as before", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-test-" });
  try {
    const logfile = `${dir}/logfile`;
    await Deno.writeTextFile(logfile, OLD_LOG);
    const dump = await runZtick(["dump", logfile]);
    assert.equal(dump.stdout, OLD_LOG);
    const compact = await runZtick(["dump", logfile, "--compact"]);
    assert.deepEqual(sorted(compact.stdout), sorted(OLD_COMPACTED));
    await using d = await startTestDaemon({ dir, compressionIntervalS: 1 });
    assert.equal(
      await converse(
        d.port,
        "a GET backup.daily\nb GET mail.welcome\nc HISTORY backup.daily\n",
      ),
      "a OK executed 1775008800000000000\nb OK failed 1775030400000000000\nc OK\n",
    );
    assert.deepEqual(sorted(await converse(d.port, "d LISTRULES\n")), [
      "d OK",
      "d rule.backup backup. shell /usr/local/bin/backup.sh",
      'd rule.report report. shell /usr/bin/report --title "Q1"',
    ]);
    await waitFor(async () =>
      (await converse(d.port, "s STAT\n")).includes(
        "s compression success\n",
      ) || undefined
    );
    assert.equal(await Deno.readTextFile(logfile), OLD_COMPACTED);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a logfile with extension records round-trips through compaction and dump --compact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-test-" });
  try {
    const logfile = `${dir}/logfile`;
    await Deno.writeTextFile(logfile, EXT_LOG);
    // dump prints every valid record canonically: this file is canonical.
    assert.equal((await runZtick(["dump", logfile])).stdout, EXT_LOG);
    const compact = await runZtick(["dump", logfile, "--compact"]);
    assert.equal(compact.stderr, "");

    let before: string;
    {
      await using d = await startTestDaemon({ dir, compressionIntervalS: 1 });
      before = await answers(d.port);
      await waitFor(async () =>
        (await converse(d.port, "s STAT\n")).includes(
          "s compression success\n",
        ) ||
        undefined
      );
    }
    const compacted = await Deno.readTextFile(logfile);
    assert.equal(
      compacted,
      [
        "RULE SET rule.hook hook. retries=5 backoff=30s max_backoff=10m timeout=0s http POST http://127.0.0.1:9/hook",
        "RULE SET rule.plain p. shell true",
        "SET hook.1 4102444860000000000 planned attempt=3",
        "SET p.kept 4102444800000000000 planned",
        'RUN hook.1 1 1775008800000412000 1775008801234000000 failed rule.hook http:503 ""',
        'RUN hook.1 2 1775008832000100000 1775008832500000000 failed rule.hook http:503 "http://127.0.0.1:9/hook answered 503"',
        'RUN p.kept 1 5 6 failed rule.plain exit:3 ""',
        'RUN p.kept 2 7 8 executed rule.plain exit:0 ""',
        "",
      ].join("\n"),
    );
    assert.deepEqual(
      sorted(compact.stdout),
      sorted(compacted),
      "dump --compact = compaction",
    );
    assert.equal(
      (await runZtick(["dump", logfile, "--compact"])).stdout,
      compacted,
    );
    assert.equal((await runZtick(["dump", logfile])).stdout, compacted);
    await using d = await startTestDaemon({ dir });
    assert.equal(await answers(d.port), before);
    assert.match(
      before,
      /^c 1 1775008800000412000 1775008801234000000 failed rule\.hook http:503\n/m,
    );
    assert.match(before, /\ne OK planned 4102444860000000000\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dump --compact keeps --history N runs per job; dump json shows attempts, options and runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-test-" });
  try {
    const logfile = `${dir}/logfile`;
    await Deno.writeTextFile(logfile, EXT_LOG);
    const one = await runZtick([
      "dump",
      logfile,
      "--compact",
      "--history",
      "1",
    ]);
    assert.deepEqual(
      one.stdout.split("\n").filter((l) => l.startsWith("RUN ")),
      [
        'RUN hook.1 2 1775008832000100000 1775008832500000000 failed rule.hook http:503 "http://127.0.0.1:9/hook answered 503"',
        'RUN p.kept 2 7 8 executed rule.plain exit:0 ""',
      ],
    );
    const none = await runZtick([
      "dump",
      logfile,
      "--compact",
      "--history",
      "0",
    ]);
    assert.ok(!none.stdout.includes("RUN "));
    const bad = await runZtick(["dump", logfile, "--history", "1001"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: invalid --history "1001" \(0-1000\)\n/);
    const json = (await runZtick(["dump", logfile, "--format", "json"])).stdout
      .split("\n");
    assert.equal(
      json[0],
      '{"type":"rule_set","identifier":"rule.hook","pattern":"hook.","options":{"retries":5,"backoff":"30s","max_backoff":"10m","timeout":"0s"},"runner":{"type":"http","method":"POST","url":"http://127.0.0.1:9/hook"}}',
    );
    assert.equal(
      json[5],
      '{"type":"set","identifier":"hook.1","execution":1775008832000000000,"status":"planned","attempt":2}',
    );
    assert.equal(
      json[4],
      '{"type":"run","identifier":"hook.1","attempt":1,"started":1775008800000412000,"ended":1775008801234000000,"outcome":"failed","rule":"rule.hook","detail":"http:503","message":"http://127.0.0.1:9/hook answered 503"}',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
