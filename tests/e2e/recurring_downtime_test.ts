/**
 * Recurring jobs across a restart (spec: extensions.md §4–§5): the three
 * catchup policies after five missed occurrences, checked through HISTORY,
 * and the schedule through replay, compaction and dump.
 */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { withTempDir } from "../_helpers/fs.ts";
import { runZtick } from "../_helpers/subprocess.ts";

const SECOND = 1_000_000_000n;
const PERIOD = 10n * SECOND;

/** The wall clock, moved forward by `offsetNs` (the downtime). */
class ShiftedClock {
  offsetNs = 0n;
  nowNs(): bigint {
    return BigInt(Date.now()) * 1_000_000n + this.offsetNs;
  }
}

async function runs(port: number, job: string): Promise<string[]> {
  const answer = await converse(port, `h HISTORY ${job}\n`);
  return answer.split("\n").filter((l) => l !== "" && l !== "h OK");
}

for (
  const [catchup, expected] of [["skip", 0], ["once", 1], ["all", 5]] as const
) {
  Deno.test(`after 5 occurrences missed while down, catchup=${catchup} runs ${expected} of them`, async () => {
    await withTempDir("ztick-downtime-", async (dir) => {
      const clock = new ShiftedClock();
      let firstNs: bigint;
      {
        await using d = await startTestDaemon({ dir, clock });
        await converse(
          d.port,
          `a RULE SET r c. shell true\nb CRON c.1 "*/10 * * * * *" catchup=${catchup}\n`,
        );
        const planned = await converse(d.port, "g GET c.1\n");
        firstNs = BigInt(planned.trim().split(" ")[3]!);
      }
      // down until 5 s after the fifth occurrence: first .. first + 40 s
      clock.offsetNs = firstNs + 4n * PERIOD + 5n * SECOND - clock.nowNs();
      await using d = await startTestDaemon({ dir, clock });
      const nextNs = firstNs + 5n * PERIOD;
      if (expected > 0) {
        await waitFor(async () =>
          (await runs(d.port, "c.1")).length >= expected || undefined
        );
      }
      await waitFor(async () =>
        (await converse(d.port, "g GET c.1\n")) ===
          `g OK planned ${nextNs}\n` || undefined
      );
      const found = await runs(d.port, "c.1");
      assert.ok(clock.nowNs() < nextNs, "checked before the next occurrence");
      assert.equal(found.length, expected, found.join("\n"));
      const starts = found.map((line) => BigInt(line.split(" ")[2]!));
      assert.deepEqual(starts, [...starts].sort(), "in order");
      for (const line of found) assert.match(line, / executed r exit:0$/);
    });
  });
}

Deno.test("a recurring job survives restart and compaction, and dump shows its schedule in text and json", async () => {
  await withTempDir("ztick-cron-records-", async (dir) => {
    const logfile = `${dir}/logfile`;
    let planned: string;
    {
      await using d = await startTestDaemon({ dir, compressionIntervalS: 1 });
      assert.equal(
        await converse(
          d.port,
          'a CRON backup.nightly "30  2 * * *" tz=Europe/Paris\n' +
            "b CRON report.weekly @weekly catchup=skip\n" +
            'c CRON gone "* * * * *"\nd REMOVE gone\n' +
            'e CRON once "* * * * *"\nf SET once 4102444800000000000\n',
        ),
        "a OK\nb OK\nc OK\nd OK\ne OK\nf OK\n",
      );
      planned = await converse(d.port, "g GET backup.nightly\n");
      await waitFor(async () =>
        (await converse(d.port, "s STAT\n")).includes(
          "s compression success\n",
        ) || undefined
      );
      assert.match(
        await converse(d.port, "s STAT\n"),
        /\ns jobs_recurring 2\n/,
      );
    }
    const nightlyNs = planned.trim().split(" ")[3]!;
    const compacted = (await Deno.readTextFile(logfile)).split("\n").sort();
    assert.ok(
      compacted.includes(
        `SET backup.nightly ${nightlyNs} planned "cron=30 2 * * *" tz=Europe/Paris catchup=once`,
      ),
      compacted.join("\n"),
    );
    assert.ok(compacted.includes("SET once 4102444800000000000 planned"));
    assert.ok(!compacted.some((line) => line.includes("gone")));
    const text = await runZtick(["dump", logfile]);
    assert.match(
      text.stdout,
      /^SET report\.weekly \d+ planned cron=@weekly tz=UTC catchup=skip$/m,
    );
    const json = await runZtick(["dump", logfile, "--format", "json"]);
    assert.match(
      json.stdout,
      new RegExp(
        `^\\{"type":"set","identifier":"backup.nightly","execution":${nightlyNs},"status":"planned","cron":"30 2 \\* \\* \\*","tz":"Europe/Paris","catchup":"once"\\}$`,
        "m",
      ),
    );
    await using d = await startTestDaemon({ dir });
    assert.equal(
      await converse(d.port, "g GET backup.nightly\n"),
      planned,
    );
    assert.match(await converse(d.port, "s STAT\n"), /\ns jobs_recurring 2\n/);
  });
});
