/**
 * Recurring jobs on a real daemon running real shell commands (spec:
 * extensions.md §4): every second, never overlapping, and a SIGKILL
 * during a run.
 */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { withTempDir } from "../_helpers/fs.ts";
import { writeConfig } from "../_helpers/model.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";

const SECOND = 1_000_000_000n;

/** HISTORY lines as [attempt, started, ended, outcome, rule, detail]. */
async function history(port: number, job: string): Promise<string[][]> {
  const answer = await converse(port, `h HISTORY ${job}\n`);
  return answer.split("\n").filter((l) => l !== "" && l !== "h OK").map(
    (line) => line.split(" ").slice(1),
  );
}

Deno.test("a */1 * * * * * shell job runs at least 3 times in 4 s, each run in HISTORY", async () => {
  await using d = await startTestDaemon();
  const ran = `${d.dir}/ran`;
  assert.equal(
    await converse(
      d.port,
      `a RULE SET r tick. shell "echo x >> ${ran}"\n` +
        `b CRON tick.1 "*/1 * * * * *"\n`,
    ),
    "a OK\nb OK\n",
  );
  const startNs = BigInt(Date.now()) * 1_000_000n;
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const runs = await history(d.port, "tick.1");
  const inTime = runs.filter(([, started]) =>
    BigInt(started!) - startNs <= 4n * SECOND
  );
  assert.ok(inTime.length >= 3, `${inTime.length} runs in 4 s`);
  for (const [attempt, , , outcome, rule, detail] of runs) {
    assert.deepEqual([attempt, outcome, rule, detail], [
      "1",
      "executed",
      "r",
      "exit:0",
    ]);
  }
  const lines = (await Deno.readTextFile(ran)).split("\n").length - 1;
  assert.ok(lines >= runs.length, "each run ran the command");
  assert.match(
    await converse(d.port, "g GET tick.1\n"),
    /^g OK (planned|triggered) \d+\n$/,
  );
});

Deno.test("runs of a recurring job never overlap: a command sleeping 1.5 s every second starts at least 1.5 s apart", async () => {
  await using d = await startTestDaemon();
  await converse(
    d.port,
    'a RULE SET r slow. shell "sleep 1.5"\nb CRON slow.1 "* * * * * *"\n',
  );
  const runs = await waitFor(async () => {
    const found = await history(d.port, "slow.1");
    return found.length >= 3 ? found : undefined;
  }, { what: "three runs", timeoutMs: 15_000 });
  for (let i = 1; i < runs.length; i++) {
    const [, started] = runs[i]!;
    const [, previousStart, previousEnd] = runs[i - 1]!;
    assert.ok(BigInt(started!) >= BigInt(previousEnd!), "after the last ended");
    assert.ok(
      BigInt(started!) - BigInt(previousStart!) >= 1_500_000_000n,
      `run ${i} started ≥ 1.5 s after run ${i - 1}`,
    );
  }
});

Deno.test("SIGKILL during a recurring run: after restart the run is re-run once and the schedule goes on", async () => {
  await withTempDir("ztick-crash-cron-", async (dir) => {
    const logfile = `${dir}/logfile`;
    const ran = `${dir}/ran`;
    const go = `${dir}/go`;
    // The first two runs (the killed one and its re-run) wait for `go`.
    const script = `n=$(cat ${ran} 2>/dev/null | wc -l); echo x >> ${ran}; ` +
      `[ "$n" -ge 2 ] && exit 0; while [ ! -e ${go} ]; do sleep 0.02; done`;
    const config = await writeConfig(dir, "ztick.toml");
    const first = await DaemonProcess.start(config);
    try {
      await converse(
        first.port,
        `a RULE SET r c. shell "${script.replaceAll('"', '\\"')}"\n` +
          `b CRON c.1 "*/2 * * * * *" catchup=skip\n`,
      );
      await waitFor(async () => {
        const text = await Deno.readTextFile(logfile);
        return /^SET c\.1 \d+ triggered "cron=/m.test(text) || undefined;
      }, { what: "the triggered record", timeoutMs: 10_000 });
      await waitFor(async () => (await lines(ran)) === 1 || undefined);
    } finally {
      assert.equal(await first.stop("SIGKILL"), 137);
    }
    await using second = await DaemonProcess.start(config);
    await second.waitForLog(/interrupted job c\.1 will run again/);
    await waitFor(async () => (await lines(ran)) === 2 || undefined, {
      what: "the re-run",
    });
    await Deno.writeTextFile(go, "");
    const runs = await waitFor(async () => {
      const found = await history(second.port, "c.1");
      return found.length >= 3 ? found : undefined;
    }, { what: "the re-run and a later run", timeoutMs: 15_000 });
    assert.deepEqual(
      runs.slice(0, 3).map(([a, , , o, , detail]) => `${a} ${o} ${detail}`),
      [
        "1 failed interrupted",
        "1 executed exit:0",
        "1 executed exit:0",
      ],
    );
    assert.match(
      await converse(second.port, "g GET c.1\n"),
      /^g OK (planned|triggered) \d+\n$/,
    );
    const last = (await Deno.readTextFile(logfile)).trimEnd().split("\n")
      .findLast((l) => l.startsWith("SET c.1 "));
    assert.match(last!, / "cron=\*\/2 \* \* \* \* \*" tz=UTC catchup=skip$/);
  });
});

async function lines(path: string): Promise<number> {
  try {
    return (await Deno.readTextFile(path)).split("\n").length - 1;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

Deno.test("CRON over TCP: the examples of extensions.md §4 answer OK, bad input ERROR and stores nothing", async () => {
  await using d = await startTestDaemon();
  assert.equal(
    await converse(
      d.port,
      'r1 CRON backup.nightly "30 2 * * *" tz=Europe/Paris\n' +
        "r2 CRON report.weekly @weekly catchup=skip\n" +
        'r3 CRON bad "0 0 30 2 *"\n' +
        "r4 CRON bad @daily tz=Nowhere/City\n" +
        "r5 CRON bad\n" +
        "r6 CRON bad @daily surplus\n" +
        'r7 CRON bad "0 0 L * *"\n' +
        "r8 CRON bad @daily catchup=\n" +
        "r9 GET bad\n",
    ),
    "r1 OK\nr2 OK\nr3 ERROR\nr4 ERROR\nr5 ERROR\nr6 ERROR\nr7 ERROR\nr8 ERROR\nr9 ERROR\n",
  );
  assert.match(
    await converse(d.port, "q QUERY\n"),
    /^q (backup\.nightly|report\.weekly) planned \d+\nq (backup\.nightly|report\.weekly) planned \d+\nq OK\n$/,
  );
});
